"""Notebook-level annotations: comment lines of their own in the parameters cell.

They are Turtle statements with an optional subject: `oda:version "v0.1.1"` is about the
workflow, `oda:MyS3 a oda:S3 .` names its own subject. Reading them as Turtle (with the
workflow prepended when the subject is left out) keeps every Turtle form working,
URLs in strings included.
"""

from __future__ import annotations

from functools import lru_cache

from pyoxigraph import NamedNode, RdfFormat, Triple, parse

from kg.namespaces import PREFIXES, RDF
from kg.ontology import Ontology

from .annotations import repair_iri, starts_annotation, tokenize, unknown_term
from .diagnostics import Problem, warning

_TURTLE_PREFIXES = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in PREFIXES.items())


#: Stands for the workflow while a statement is parsed, so parses can be cached across notebooks.
_WORKFLOW = NamedNode("urn:oda-kg:this-workflow")


def parse_statements(
    comments: list[tuple[int, str]], workflow: NamedNode, ontology: Ontology
) -> tuple[list[Triple], list[Problem]]:
    triples: list[Triple] = []
    problems: list[Problem] = []
    for line, text in comments:
        if not starts_annotation(tokenize(text)):
            continue
        parsed = _statement(text.strip().removesuffix(".").strip())
        if parsed is None:
            problems.append(
                warning("bad-statement", f"cannot read notebook annotation `{text.strip()}`", line)
            )
            continue
        found: list[Problem] = []
        for triple in parsed:
            triples.append(_repaired(_about(triple, workflow), found))
            _check(triples[-1], ontology, found)
        problems += [Problem(p.severity, p.code, p.message, line) for p in found]
    return triples, problems


@lru_cache(maxsize=4096)
def _statement(body: str) -> tuple[Triple, ...] | None:
    """The triples of one statement: about the workflow when it names no subject of its own."""
    return _turtle(f"{_WORKFLOW} {body} .") or _turtle(f"{body} .")


def _turtle(text: str) -> tuple[Triple, ...] | None:
    try:
        return tuple(q.triple for q in parse(_TURTLE_PREFIXES + text, format=RdfFormat.TURTLE))
    except SyntaxError:
        return None


def _about(triple: Triple, workflow: NamedNode) -> Triple:
    def place(term):
        return workflow if term == _WORKFLOW else term

    return Triple(place(triple.subject), triple.predicate, place(triple.object))


def _repaired(triple: Triple, problems: list[Problem]) -> Triple:
    def fix(term):
        return NamedNode(repair_iri(term.value, problems)) if isinstance(term, NamedNode) else term

    return Triple(fix(triple.subject), fix(triple.predicate), fix(triple.object))


def _check(triple: Triple, ontology: Ontology, problems: list[Problem]) -> None:
    """Warn about predicates and classes the ODA ontology does not define."""
    checks = [(triple.predicate.value, ontology.is_property, "property")]
    if triple.predicate == RDF.type and isinstance(triple.object, NamedNode):
        checks.append((triple.object.value, ontology.is_class, "class"))
    problems += filter(None, (unknown_term(iri, known, kind, ontology) for iri, known, kind in checks))
