"""A workflow description as triples, following the data-model contract (ARCHITECTURE §3)."""

from __future__ import annotations

import json

from pyoxigraph import Literal, NamedNode, Triple

from kg import __version__
from kg.iris import member_iri, workflow_iri
from kg.namespaces import KG, ODA, PROV, RDF, SCHEMA, XSD

from .annotations import IRI, Value
from .model import Output, Parameter, Workflow

TRUE = Literal(True)


def term(value: IRI | Value) -> NamedNode | Literal:
    """The RDF term of an annotation value or default: typed literals, JSON for structures."""
    if isinstance(value, IRI):
        return NamedNode(value.value)
    if isinstance(value, dict | list | tuple):
        return Literal(json.dumps(value), datatype=RDF.JSON)
    if isinstance(value, bool | int | float | str):
        return Literal(value)
    return Literal(repr(value))


def workflow_triples(workflow: Workflow, harvested_at: str) -> list[Triple]:
    wf = workflow_iri(workflow.key)
    repository = workflow.repository
    triples = [
        Triple(wf, RDF.type, ODA.Workflow),
        Triple(wf, RDF.type, PROV.Plan),
        Triple(wf, RDF.type, SCHEMA.SoftwareSourceCode),
        Triple(wf, SCHEMA.name, Literal(workflow.name)),
        Triple(wf, KG.notebookPath, Literal(workflow.notebook_path)),
        Triple(wf, SCHEMA.codeRepository, NamedNode(repository.iri)),
        Triple(wf, KG.contentHash, Literal(workflow.content_hash)),
        Triple(wf, KG.isTest, Literal(workflow.is_test)),
        Triple(wf, KG.harvestedAt, Literal(harvested_at, datatype=XSD.dateTime)),
        Triple(wf, KG.harvester, Literal(f"oda-kg {__version__}")),
    ]
    optional = (
        (KG.commit, repository.commit),
        (KG.helpText, repository.help_text),
        (KG.acknowledgements, repository.acknowledgements),
    )
    triples += [Triple(wf, p, Literal(v)) for p, v in optional if v]
    for parameter in workflow.parameters:
        node = member_iri(wf, "parameter", parameter.name)
        triples.append(Triple(wf, KG.hasParameter, node))
        triples += parameter_triples(node, parameter)
    for output in workflow.outputs:
        node = member_iri(wf, "output", output.name)
        triples.append(Triple(wf, KG.hasOutput, node))
        triples += output_triples(node, output)
    return triples + workflow.statements


def _types(node: NamedNode, own: NamedNode, classes: list[str]) -> list[Triple]:
    return [Triple(node, RDF.type, own)] + [Triple(node, RDF.type, NamedNode(c)) for c in classes]


def _extra(node: NamedNode, extra: list[tuple[str, list[IRI | Value]]]) -> list[Triple]:
    return [Triple(node, NamedNode(p), term(v)) for p, values in extra for v in values if v is not None]


def parameter_triples(node: NamedNode, p: Parameter) -> list[Triple]:
    triples = _types(node, KG.Parameter, p.classes)
    triples += [Triple(node, SCHEMA.name, Literal(p.name)), Triple(node, KG.position, Literal(p.position))]
    values = (
        (SCHEMA.defaultValue, p.default),
        (ODA.lower_limit, p.lower_limit),
        (ODA.upper_limit, p.upper_limit),
        (ODA.label, p.label),
        (ODA.description, p.description),
        (ODA.group, p.group),
        (KG.commonParameter, p.common_name),
        (KG.annotation, p.annotation),
        (KG.pythonType, p.python_type),
    )
    triples += [Triple(node, prop, term(v)) for prop, v in values if v is not None]
    triples += [Triple(node, ODA.allowed_value, term(v)) for v in p.allowed_values if v is not None]
    triples += [
        Triple(node, prop, NamedNode(v)) for prop, v in ((ODA.unit, p.unit), (ODA.format, p.format)) if v
    ]
    if p.datatype:
        triples.append(Triple(node, KG.datatype, NamedNode(p.datatype)))
    if p.optional:
        triples.append(Triple(node, KG.optional, TRUE))
    return triples + _extra(node, p.extra)


def output_triples(node: NamedNode, o: Output) -> list[Triple]:
    triples = _types(node, KG.Output, o.classes)
    triples.append(Triple(node, SCHEMA.name, Literal(o.name)))
    values = ((ODA.label, o.label), (ODA.description, o.description), (KG.annotation, o.annotation))
    triples += [Triple(node, prop, Literal(v)) for prop, v in values if v is not None]
    if o.is_comment:
        triples.append(Triple(node, KG.isComment, TRUE))
    return triples + _extra(node, o.extra)
