"""Astroquery calls' RDF follows the data-model contract (ARCHITECTURE §3 "Astroquery call")."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Store

from harvesters.astroquery import call_iri, call_quads, module_iri, region_iri
from kg.iris import object_iri, run_graph, run_iri
from kg.namespaces import SPARQL_PROLOGUE, XSD
from kg.runs.model import AstroqueryCall

RUN, GRAPH = run_iri("r1"), run_graph("r1")
STARTED = datetime(2025, 3, 1, 12, 0, 4, 250000, tzinfo=UTC)

SIMBAD = AstroqueryCall(
    module="SimbadClass",
    method="query_object",
    arguments='{"args": ["Mrk 421"], "kwargs": {}}',
    started_at=STARTED,
    duration_s=0.5,
    outcome="ok",
    objects=("Mrk 421",),
    cache=False,
)
VIZIER = AstroqueryCall(
    module="VizierClass",
    method="query_region",
    arguments='{"args": ["ICRS 166.113808 38.208833"], "kwargs": {"radius": "0.1 deg"}}',
    started_at=STARTED,
    duration_s=2.0,
    outcome="error",
    error="ReadTimeout: Read timed out. (read timeout=2.0)",
    region="ICRS 166.113808 38.208833; radius=0.1 deg",
)


def store_of(calls: list[AstroqueryCall], run: NamedNode = RUN) -> Store:
    store = Store()
    store.extend(call_quads(run, calls, GRAPH))
    return store


def select(store: Store, query: str) -> list[tuple[str, ...]]:
    rows = store.query(SPARQL_PROLOGUE + query, use_default_graph_as_union=True)
    return [tuple(term.value if term is not None else None for term in row) for row in rows]


def test_a_call_states_its_module_method_arguments_time_outcome_and_object() -> None:
    rows = select(
        store_of([SIMBAD]),
        """SELECT ?call ?module ?method ?arguments ?started ?ended ?duration ?outcome ?cache ?object WHERE {
            ?run kg:madeCall ?call .
            ?call a kg:AstroqueryCall ; oda:isUsing ?m ; kg:method ?method ; kg:arguments ?arguments ;
                prov:startedAtTime ?started ; prov:endedAtTime ?ended ; kg:duration ?duration ;
                kg:outcome ?outcome ; kg:cacheActive ?cache ; oda:isRequestingAstroObject ?o .
            ?m a oda:AstroqueryModule ; schema:name ?module .
            ?o a oda:AstrophysicalObject ; schema:name ?object .
            FILTER NOT EXISTS { ?call schema:error ?error }
            FILTER NOT EXISTS { ?call oda:isRequestingAstroRegion ?region }
        }""",
    )
    assert rows == [
        (
            f"{RUN.value}/call/0",
            "SimbadClass",
            "query_object",
            '{"args": ["Mrk 421"], "kwargs": {}}',
            "2025-03-01T12:00:04.25Z",
            "2025-03-01T12:00:04.75Z",
            "0.5",
            "ok",
            "false",
            "Mrk 421",
        )
    ]


def test_a_failed_call_states_its_error_and_the_region_it_asked_for() -> None:
    rows = select(
        store_of([VIZIER]),
        """SELECT ?outcome ?error ?region WHERE {
            ?call kg:outcome ?outcome ; schema:error ?error ; oda:isRequestingAstroRegion ?r .
            ?r a oda:AstrophysicalRegion ; schema:name ?region .
            FILTER NOT EXISTS { ?call kg:cacheActive ?cache }
        }""",
    )
    assert rows == [
        (
            "error",
            "ReadTimeout: Read timed out. (read timeout=2.0)",
            "ICRS 166.113808 38.208833; radius=0.1 deg",
        )
    ]


def test_durations_and_times_are_typed_for_queries() -> None:
    quads = call_quads(RUN, [SIMBAD], GRAPH)
    objects = {quad.predicate.value.rsplit("#", 1)[-1]: quad.object for quad in quads}
    assert objects["duration"] == Literal(0.5)
    assert objects["startedAtTime"] == Literal("2025-03-01T12:00:04.250000+00:00", datatype=XSD.dateTime)


def test_calls_of_different_runs_meet_on_one_module_object_and_region_node() -> None:
    respelled = dataclasses.replace(SIMBAD, objects=("MRK421",))
    store = store_of([SIMBAD, VIZIER])
    store.extend(call_quads(run_iri("r2"), [VIZIER, respelled], run_graph("r2")))
    rows = select(
        store,
        """SELECT ?node (COUNT(DISTINCT ?call) AS ?calls) WHERE {
            ?call oda:isUsing|oda:isRequestingAstroObject|oda:isRequestingAstroRegion ?node .
        } GROUP BY ?node ORDER BY ?node""",
    )
    nodes = [
        module_iri("SimbadClass"),
        module_iri("VizierClass"),
        object_iri("Mrk 421"),
        region_iri(VIZIER.region),
    ]
    assert rows == sorted((node.value, "2") for node in nodes)


def test_an_object_is_named_once_in_a_run_by_its_first_spelling() -> None:
    respelled = dataclasses.replace(SIMBAD, objects=("MRK421",))
    names = select(
        store_of([SIMBAD, respelled]),
        "SELECT ?name WHERE { ?o a oda:AstrophysicalObject ; schema:name ?name }",
    )
    assert names == [("Mrk 421",)]


def test_call_nodes_are_numbered_in_their_run_in_recorded_order() -> None:
    quads = call_quads(RUN, [SIMBAD, VIZIER], GRAPH)
    assert quads == call_quads(RUN, [SIMBAD, VIZIER], GRAPH)
    assert {q.graph_name for q in quads} == {GRAPH}
    calls = [q.object for q in quads if q.subject == RUN]
    assert (
        calls
        == [call_iri(RUN, 0), call_iri(RUN, 1)]
        == [
            NamedNode(f"{RUN.value}/call/0"),
            NamedNode(f"{RUN.value}/call/1"),
        ]
    )
