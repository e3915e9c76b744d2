"""A run as quads in its own named graph, following the data-model contract (ARCHITECTURE §3 "Run").

Every node a run owns (its parameter values, its output values) has an IRI under the run's,
never a blank node, so writing the run again at its next lifecycle step replaces the graph
with no leftovers and the same statement always lands on the same node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from harvesters.astroquery.rdf import call_quads
from harvesters.notebooks.rdf import term
from kg.iris import member_iri, object_iri, run_graph, run_iri
from kg.namespaces import DCTERMS, KG, ODA, PROV, RDF, SCHEMA, XSD
from kg.runs.model import AstroqueryCall, Execution, OutputValue, Run, Status

STATUS_TERMS: dict[Status, NamedNode] = {
    Status.PLANNED: SCHEMA.PotentialActionStatus,
    Status.ACTIVE: SCHEMA.ActiveActionStatus,
    Status.COMPLETED: SCHEMA.CompletedActionStatus,
    Status.FAILED: SCHEMA.FailedActionStatus,
}


def date_time(moment: datetime) -> Literal:
    return Literal(moment.isoformat(), datatype=XSD.dateTime)


def json_text(value: Any) -> Literal:
    """JSON as a plain string, as `kg:environment` declares; keys sorted so equal values match."""
    return Literal(json.dumps(value, sort_keys=True))


def run_quads(run: Run) -> list[Quad]:
    """Everything recorded about `run` at its current lifecycle step, in the run's named graph."""
    g, node = run_graph(run.id), run_iri(run.id)
    workflow = NamedNode(run.workflow)
    execution = run.execution
    quads = [
        Quad(node, RDF.type, KG.Run, g),
        Quad(node, RDF.type, PROV.Activity, g),
        Quad(node, RDF.type, SCHEMA.CreateAction, g),
        Quad(node, SCHEMA.identifier, Literal(run.id), g),
        Quad(node, PROV.hadPlan, workflow, g),
        Quad(node, SCHEMA.instrument, workflow, g),
        Quad(node, KG.workflowName, Literal(run.workflow_name), g),
        Quad(node, KG.notebookFile, Literal(run.notebook), g),
        Quad(node, KG.contentHash, Literal(run.content_hash), g),
        Quad(node, KG.cacheKey, Literal(run.cache_key), g),
        Quad(node, DCTERMS.created, date_time(run.created_at), g),
        Quad(node, SCHEMA.actionStatus, STATUS_TERMS[run.status], g),
    ]
    active = run.status is Status.ACTIVE
    unfinished = run.status in (Status.PLANNED, Status.ACTIVE)
    started = execution.started_at if execution else run.started_at
    progress = run.progress if active else execution.progress if execution else None
    optional = (
        (KG.commit, run.commit and Literal(run.commit)),
        (PROV.startedAtTime, started and date_time(started)),
        (KG.worker, unfinished and run.worker and Literal(run.worker)),
        (KG.progress, progress is not None and json_text(progress)),
        (KG.isTestRun, run.test and Literal(True)),
    )
    quads += [Quad(node, prop, value, g) for prop, value in optional if value]
    for name, value in run.values.items():
        quads += parameter_value_quads(node, name, value, g)
    if execution:
        quads += execution_quads(node, execution, g)
    return quads + object_quads(node, run.objects, execution.calls if execution else [], g)


def execution_quads(node: NamedNode, execution: Execution, g: NamedNode) -> list[Quad]:
    """What executing the notebook did: its end, its error, its environment, outputs and calls."""
    values = (
        (PROV.endedAtTime, date_time(execution.ended_at)),
        (SCHEMA.error, execution.error and Literal(execution.error)),
        (KG.traceback, execution.traceback and Literal(execution.traceback)),
        (KG.environment, execution.environment and json_text(execution.environment)),
        (KG.executedNotebook, execution.executed_notebook and Literal(execution.executed_notebook)),
    )
    quads = [Quad(node, prop, value, g) for prop, value in values if value]
    for output in execution.outputs:
        quads += output_value_quads(node, output, g)
    return quads + call_quads(node, execution.calls, g)


def parameter_value_quads(node: NamedNode, name: str, value: Any, g: NamedNode) -> list[Quad]:
    """`kg:parameterValue` with the value as a typed literal; a None value has no `schema:value`."""
    pv = member_iri(node, "value", name)
    quads = [
        Quad(node, KG.parameterValue, pv, g),
        Quad(pv, RDF.type, KG.ParameterValue, g),
        Quad(pv, SCHEMA.name, Literal(name), g),
    ]
    if value is not None:
        quads.append(Quad(pv, SCHEMA.value, term(value), g))
    return quads


def output_value_quads(node: NamedNode, output: OutputValue, g: NamedNode) -> list[Quad]:
    """`prov:generated` with the value's hash and kind, plus the value when small, the file when a file."""
    out = member_iri(node, "output", output.name)
    quads = [
        Quad(node, PROV.generated, out, g),
        Quad(out, RDF.type, PROV.Entity, g),
        Quad(out, RDF.type, KG.OutputValue, g),
        Quad(out, SCHEMA.name, Literal(output.name), g),
        Quad(out, KG.valueHash, Literal(output.value_hash), g),
        Quad(out, KG.valueKind, Literal(output.kind), g),
    ]
    if output.value is not None:
        quads.append(Quad(out, SCHEMA.value, term(output.value), g))
    if output.file is not None:
        quads.append(Quad(out, KG.file, Literal(output.file), g))
    return quads


def object_quads(
    node: NamedNode, names: Iterable[str], calls: Sequence[AstroqueryCall], g: NamedNode
) -> list[Quad]:
    """`prov:used` for each object the run is about (`names`, from its values) or its calls asked for.

    One node per object however its name is spelled, described once: `call_quads` describes the
    objects of calls, this the others (by their first spelling), so no object gets two names.
    """
    called = {object_iri(name) for call in calls for name in call.objects}
    own: dict[NamedNode, str] = {}
    for name in names:
        own.setdefault(object_iri(name), name)
    quads = [Quad(node, PROV.used, obj, g) for obj in dict.fromkeys([*own, *called])]
    for obj, name in own.items():
        if obj not in called:
            quads += [
                Quad(obj, RDF.type, ODA.AstrophysicalObject, g),
                Quad(obj, SCHEMA.name, Literal(name), g),
            ]
    return quads
