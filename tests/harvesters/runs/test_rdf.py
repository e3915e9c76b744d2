"""A run's RDF follows the data-model contract (ARCHITECTURE §3 "Run") that queries and rules rely on."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from harvesters.runs.rdf import run_quads
from kg.iris import object_iri, run_graph, run_iri
from kg.namespaces import DCTERMS, KG, ODA, PROV, RDF, SCHEMA, XSD
from kg.runs.model import AstroqueryCall, Execution, OutputValue, Run, Status
from kg.shapes import validate

WORKFLOW = NamedNode("https://w3id.org/oda-kg/workflow/lightcurve-fc9317d4763d")
CREATED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
STARTED = CREATED + timedelta(seconds=5)
ENDED = STARTED + timedelta(seconds=2)
NODE = run_iri("r1")


def completed_run(**changes: object) -> Run:
    execution = Execution(
        status=Status.COMPLETED,
        started_at=STARTED,
        ended_at=ENDED,
        outputs=[
            OutputValue("n_bins", "sha256:" + "3" * 64, "json", value=12),
            OutputValue("lc_file", "sha256:" + "4" * 64, "file", value="lc.fits", file="outputs/lc/lc.fits"),
            OutputValue("big", "sha256:" + "6" * 64, "table", file="outputs/big.json"),
        ],
        environment={"python": "3.11.9", "numpy": "2.2.1"},
        executed_notebook="/srv/runs/r1/lightcurve.ipynb",
    )
    run = Run(
        id="r1",
        workflow=WORKFLOW.value,
        workflow_name="lightcurve",
        notebook="/srv/repo/examples/lightcurve.ipynb",
        content_hash="sha256:" + "a" * 64,
        values={
            "src_name": "Mrk 421",
            "RA": 166.1,
            "n_bins": 12,
            "use_cache": True,
            "band": None,
            "e": [0.3, 10],
        },
        cache_key="sha256:" + "c" * 64,
        created_at=CREATED,
        commit="642e9c87f10151720977fef6dfe0f15be3a1850f",
        status=Status.COMPLETED,
        objects=("Mrk 421",),
        execution=execution,
    )
    return dataclasses.replace(run, **changes)


def triples(run: Run) -> set[tuple]:
    return {(q.subject, q.predicate, q.object) for q in run_quads(run)}


def about(run: Run, subject: NamedNode) -> dict[NamedNode, list]:
    props: dict[NamedNode, list] = {}
    for s, p, o in triples(run):
        if s == subject:
            props.setdefault(p, []).append(o)
    return props


def test_a_run_is_an_activity_of_its_workflow_with_its_times_and_provenance() -> None:
    run = completed_run()
    assert {
        (NODE, RDF.type, KG.Run),
        (NODE, RDF.type, PROV.Activity),
        (NODE, RDF.type, SCHEMA.CreateAction),
        (NODE, PROV.hadPlan, WORKFLOW),
        (NODE, SCHEMA.instrument, WORKFLOW),
        (NODE, SCHEMA.identifier, Literal("r1")),
        (NODE, SCHEMA.actionStatus, SCHEMA.CompletedActionStatus),
        (NODE, DCTERMS.created, Literal(CREATED.isoformat(), datatype=XSD.dateTime)),
        (NODE, PROV.startedAtTime, Literal(STARTED.isoformat(), datatype=XSD.dateTime)),
        (NODE, PROV.endedAtTime, Literal(ENDED.isoformat(), datatype=XSD.dateTime)),
        (NODE, KG.contentHash, Literal(run.content_hash)),
        (NODE, KG.commit, Literal(run.commit)),
        (NODE, KG.cacheKey, Literal(run.cache_key)),
        (NODE, KG.executedNotebook, Literal("/srv/runs/r1/lightcurve.ipynb")),
    } <= triples(run)
    (environment,) = about(run, NODE)[KG.environment]
    assert json.loads(environment.value) == run.execution.environment


def test_parameter_values_are_typed_literals_on_nodes_named_after_the_parameter() -> None:
    props = about(completed_run(), NODE)
    nodes = {
        NamedNode(f"{NODE.value}/value/{name}")
        for name in ("src_name", "RA", "n_bins", "use_cache", "band", "e")
    }
    assert set(props[KG.parameterValue]) == nodes
    run = completed_run()

    def value(name: str) -> list:
        node = NamedNode(f"{NODE.value}/value/{name}")
        assert about(run, node)[SCHEMA.name] == [Literal(name)]
        assert about(run, node)[RDF.type] == [KG.ParameterValue]
        return about(run, node).get(SCHEMA.value, [])

    assert value("src_name") == [Literal("Mrk 421")]
    assert value("RA") == [Literal(166.1)]
    assert value("n_bins") == [Literal("12", datatype=XSD.integer)]
    assert value("use_cache") == [Literal("true", datatype=XSD.boolean)]
    assert [json.loads(v.value) for v in value("e")] == [[0.3, 10]]
    assert value("band") == []


def test_outputs_are_entities_with_hash_and_the_value_or_file() -> None:
    run = completed_run()
    outputs = {NamedNode(f"{NODE.value}/output/{name}") for name in ("n_bins", "lc_file", "big")}
    assert set(about(run, NODE)[PROV.generated]) == outputs
    n_bins = about(run, NamedNode(f"{NODE.value}/output/n_bins"))
    assert set(n_bins[RDF.type]) == {PROV.Entity, KG.OutputValue}
    assert n_bins[KG.valueHash] == [Literal("sha256:" + "3" * 64)]
    assert n_bins[SCHEMA.value] == [Literal(12)]
    assert n_bins[KG.valueKind] == [Literal("json")]
    assert KG.file not in n_bins
    lc_file = about(run, NamedNode(f"{NODE.value}/output/lc_file"))
    assert (lc_file[KG.file], lc_file[SCHEMA.value]) == (
        [Literal("outputs/lc/lc.fits")],
        [Literal("lc.fits")],
    )
    big = about(run, NamedNode(f"{NODE.value}/output/big"))
    assert (big[KG.file], big.get(SCHEMA.value)) == ([Literal("outputs/big.json")], None)


def test_failed_runs_carry_the_error_and_traceback() -> None:
    execution = dataclasses.replace(
        completed_run().execution,
        status=Status.FAILED,
        error="RuntimeError: no data",
        traceback="Traceback ...",
    )
    props = about(completed_run(status=Status.FAILED, execution=execution), NODE)
    assert props[SCHEMA.actionStatus] == [SCHEMA.FailedActionStatus]
    assert props[SCHEMA.error] == [Literal("RuntimeError: no data")]
    assert props[KG.traceback] == [Literal("Traceback ...")]


@pytest.mark.parametrize(
    ("status", "term"),
    [
        (Status.PLANNED, SCHEMA.PotentialActionStatus),
        (Status.ACTIVE, SCHEMA.ActiveActionStatus),
        (Status.COMPLETED, SCHEMA.CompletedActionStatus),
        (Status.FAILED, SCHEMA.FailedActionStatus),
    ],
)
def test_the_worker_is_recorded_until_the_run_ends_and_live_progress_while_active(
    status: Status, term: NamedNode
) -> None:
    run = completed_run(
        status=status, execution=None, started_at=STARTED, worker="host:42:1.00", progress={"progress": 40}
    )
    props = about(run, NODE)
    assert props[SCHEMA.actionStatus] == [term]
    assert (KG.worker in props, KG.progress in props) == (
        status in (Status.PLANNED, Status.ACTIVE),
        status is Status.ACTIVE,
    )
    assert props[PROV.startedAtTime] == [Literal(STARTED.isoformat(), datatype=XSD.dateTime)]


def test_each_object_is_used_once_however_it_is_spelled() -> None:
    props = about(completed_run(objects=("Mrk 421", "MRK_421", "Crab")), NODE)
    assert set(props[PROV.used]) == {object_iri("Mrk 421"), object_iri("Crab")}
    mrk = about(completed_run(objects=("Mrk 421", "MRK_421")), object_iri("mrk421"))
    assert (mrk[RDF.type], mrk[SCHEMA.name]) == ([ODA.AstrophysicalObject], [Literal("Mrk 421")])


def test_objects_of_astroquery_calls_are_used_too_each_with_one_name() -> None:
    call = AstroqueryCall(
        "SimbadClass",
        "query_object",
        '{"args": ["MRK421"], "kwargs": {}}',
        STARTED,
        0.2,
        "ok",
        objects=("MRK421",),
    )
    execution = dataclasses.replace(completed_run().execution, calls=[call])
    run = completed_run(objects=("Mrk 421", "Crab"), execution=execution)
    props = about(run, NODE)
    assert set(props[PROV.used]) == {object_iri("Mrk 421"), object_iri("Crab")}
    assert props[KG.madeCall] == [NamedNode(f"{NODE.value}/call/0")]
    assert about(run, object_iri("Mrk 421"))[SCHEMA.name] == [Literal("MRK421")]
    assert about(run, object_iri("Crab"))[SCHEMA.name] == [Literal("Crab")]


def test_everything_is_in_the_run_graph_on_named_nodes() -> None:
    call = AstroqueryCall(
        "VizierClass", "query_region", "{}", STARTED, 0.1, "error", "ConnectionError: offline"
    )
    run = completed_run(execution=dataclasses.replace(completed_run().execution, calls=[call]))
    quads = run_quads(run)
    assert {q.graph_name for q in quads} == {run_graph("r1")}
    assert not [q for q in quads if isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode)]
    assert len(quads) == len(set(quads))
    assert run_quads(run) == quads


@pytest.mark.parametrize("status", [Status.PLANNED, Status.ACTIVE, Status.COMPLETED, Status.FAILED])
def test_run_graphs_conform_to_the_shapes(status: Status) -> None:
    finished = status in (Status.COMPLETED, Status.FAILED)
    run = (
        completed_run(status=status, worker="host:42:1.00")
        if finished
        else completed_run(status=status, execution=None)
    )
    report = validate(q.triple for q in run_quads(run))
    assert report.conforms, report.text


def test_a_finished_run_without_an_end_does_not_conform() -> None:
    quads = [q for q in run_quads(completed_run()) if q.predicate != PROV.endedAtTime]
    report = validate(q.triple for q in quads)
    assert [v.message for v in report.results] == ["A completed or failed run needs a prov:endedAtTime."]


def test_a_run_graph_with_two_statuses_does_not_conform() -> None:
    quads = [
        *run_quads(completed_run()),
        Quad(NODE, SCHEMA.actionStatus, SCHEMA.ActiveActionStatus, run_graph("r1")),
    ]
    report = validate(q.triple for q in quads)
    assert "A run needs exactly one schema:actionStatus." in {v.message for v in report.results}
