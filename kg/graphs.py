"""One named graph read whole into `subject -> predicate -> objects`, the way the JSON read models
(workflows, runs) are assembled: one query per record, then plain dictionary lookups."""

from __future__ import annotations

from collections import defaultdict

from pyoxigraph import NamedNode

from kg.store.base import Store
from kg.terms import to_python

GRAPH_TRIPLES = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"

About = dict[NamedNode, dict[NamedNode, list]]


def read_graph(store: Store, graph: NamedNode) -> About:
    """Every statement of `graph`, by subject and predicate (missing keys read as empty)."""
    about: About = defaultdict(lambda: defaultdict(list))
    for row in store.select(GRAPH_TRIPLES, {"g": graph}):
        about[row["s"]][row["p"]].append(row["o"])
    return about


def one(props: dict, prop: NamedNode) -> object:
    """The first value of `prop` as a Python value, or None."""
    values = props.get(prop)
    return to_python(values[0]) if values else None


def every(props: dict, prop: NamedNode) -> list[object]:
    return [to_python(v) for v in props.get(prop, [])]
