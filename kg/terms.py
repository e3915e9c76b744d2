"""Between RDF terms and the plain values users see in JSON and tables."""

from __future__ import annotations

import json

from pyoxigraph import BlankNode, Literal, NamedNode

from kg.namespaces import PREFIXES, RDF, XSD

_INTEGERS = {XSD[t] for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}
_FLOATS = {XSD.double, XSD.float, XSD.decimal}


def curie(iri: str) -> str:
    """The short form of an IRI in a known namespace (`oda:Float`), else the IRI itself."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def expand_curie(text: str) -> str | None:
    """The IRI a `prefix:local` string names, when its prefix is known."""
    prefix, sep, local = text.partition(":")
    return PREFIXES[prefix] + local if sep and prefix in PREFIXES else None


def to_python(term: NamedNode | BlankNode | Literal) -> object:
    """A JSON-able value: numbers and booleans typed, rdf:JSON parsed, IRIs shortened."""
    if isinstance(term, NamedNode):
        return curie(term.value)
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    datatype = term.datatype
    try:
        if datatype in _INTEGERS:
            return int(term.value)
        if datatype in _FLOATS:
            return float(term.value)
        if datatype == XSD.boolean:
            return term.value in ("true", "1")
        if datatype == RDF.JSON:
            return json.loads(term.value)
    except ValueError:
        return term.value
    return term.value


def from_text(text: str) -> NamedNode | Literal:
    """A term from user input: `<iri>` or a known `prefix:local` is an IRI, anything else a string."""
    if text.startswith("<") and text.endswith(">"):
        return NamedNode(text[1:-1])
    expanded = expand_curie(text)
    return NamedNode(expanded) if expanded and " " not in text else Literal(text)
