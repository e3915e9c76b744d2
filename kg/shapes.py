"""SHACL validation of harvested workflow graphs against `ontology/shapes.ttl`.

Validation runs with the ontology (oda.ttl, kg.ttl) and RDFS inference, so a shape that
targets `oda:Workflow` also checks an `oda:DiscoveryWorkflow`, and a node that is only the
object of `kg:hasParameter` is checked as a `kg:Parameter`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyshacl
from pyoxigraph import RdfFormat, Triple, serialize
from rdflib import BNode, Graph, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from kg.ontology import INDEX_FILES
from kg.paths import ontology_dir

SH = Namespace("http://www.w3.org/ns/shacl#")
_SCHEMA_PREDICATES = frozenset({RDF.type, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range})


@dataclass(frozen=True)
class ShapeViolation:
    focus_node: str
    path: str | None
    message: str
    severity: str  # "Violation", "Warning" or "Info"
    value: str | None = None


@dataclass
class ShapesReport:
    conforms: bool
    results: list[ShapeViolation]
    text: str


def validate(data: Iterable[Triple] | str, shapes_path: Path | None = None) -> ShapesReport:
    """Validate triples (pyoxigraph) or Turtle text against the shapes (default: the shipped ones)."""
    shapes = _turtle_graph(shapes_path or ontology_dir() / "shapes.ttl")
    conforms, results_graph, text = pyshacl.validate(
        _data_graph(data),
        shacl_graph=shapes,
        ont_graph=_ontology_graph(ontology_dir()),
        inference="rdfs",
    )
    return ShapesReport(conforms=bool(conforms), results=_violations(results_graph), text=text)


def _data_graph(data: Iterable[Triple] | str) -> Graph:
    if isinstance(data, str):
        return Graph().parse(data=data, format="turtle")
    ntriples = serialize(data, format=RdfFormat.N_TRIPLES) or b""
    return Graph().parse(data=ntriples, format="nt")


@functools.cache
def _turtle_graph(path: Path) -> Graph:
    """A parsed shapes file; pyshacl only reads it, so one copy serves every validation."""
    return Graph().parse(path, format="turtle")


@functools.cache
def _ontology_graph(directory: Path) -> Graph:
    """The ontology's RDFS schema: the triples RDFS inference and sh:class can use.

    Labels, comments and OWL restrictions play no part in RDFS typing, and leaving them out
    halves the time pyshacl spends on inference for every validation.
    """
    full = Graph()
    for name in INDEX_FILES:
        full.parse(directory / name, format="turtle")
    schema = Graph()
    for triple in full.triples((None, None, None)):
        subject, predicate, obj = triple
        if predicate in _SCHEMA_PREDICATES and isinstance(subject, URIRef) and isinstance(obj, URIRef):
            schema.add(triple)
    return schema


def _violations(results: Graph) -> list[ShapeViolation]:
    """The report's top-level results (not the sh:detail copies nested under sh:node failures)."""
    violations = []
    report = results.value(predicate=RDF.type, object=SH.ValidationReport)
    for result in results.objects(report, SH.result):
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        severity = results.value(result, SH.resultSeverity)
        violations.append(
            ShapeViolation(
                focus_node=_text(results.value(result, SH.focusNode)),
                path=None if path is None else _text(path),
                message=str(results.value(result, SH.resultMessage) or ""),
                severity=str(severity).removeprefix(str(SH)),
                value=None if value is None else _text(value),
            )
        )
    # One constraint can fail several ways on one value (e.g. "1" is neither an integer nor >= 0).
    return sorted(set(violations), key=lambda v: (v.focus_node, v.path or "", v.message))


def _text(node: Node | None) -> str:
    """IRIs and literals as their value, blank nodes as `_:id`."""
    return f"_:{node}" if isinstance(node, BNode) else str(node)
