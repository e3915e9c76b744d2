"""The store contract, run on both backends through the `store` fixture."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    Literal,
    NamedNode,
    Quad,
    QueryTriples,
    RdfFormat,
    Triple,
    parse,
)

from kg.namespaces import Namespace
from kg.store import QuerySyntaxError, Store, StoreError
from kg.store.base import in_graph

EX = Namespace("http://example.org/")
G1, G2, G3 = EX.g1, EX.g2, EX.g3
HOSTILE = 'say "hi" } ; DROP ALL ; # \\u0022 \\" \n} UNION { ?s ?p ?o }\r\n'


def graph_triples(store: Store, graph: NamedNode) -> set[Triple]:
    rows = store.select("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": graph})
    return {Triple(row["s"], row["p"], row["o"]) for row in rows}


def all_quads(store: Store) -> set[Quad]:
    buffer = io.BytesIO()
    store.export(buffer, RdfFormat.N_QUADS)
    return set(parse(buffer.getvalue(), RdfFormat.N_QUADS))


@pytest.fixture
def people(store: Store) -> Store:
    """Alice in g1, Bob in g2, and a note in the real default graph."""
    store.update(
        'INSERT DATA { <http://example.org/note> <http://example.org/says> "in the default graph" .'
        ' GRAPH <http://example.org/g1> { <http://example.org/alice> <http://example.org/name> "Alice" }'
        ' GRAPH <http://example.org/g2> { <http://example.org/bob> <http://example.org/name> "Bob" } }'
    )
    return store


def test_bindings_select_rows_without_being_selected(people: Store) -> None:
    query = "SELECT ?who WHERE { ?who <http://example.org/name> ?name FILTER(?name = ?wanted) }"
    assert people.select(query, {"wanted": Literal("Bob")}) == [{"who": EX.bob}]


def test_a_binding_is_only_ever_a_value(store: Store) -> None:
    store.replace_graphs(
        {G1: in_graph(G1, [Triple(EX.a, EX.label, Literal(HOSTILE)), Triple(EX.b, EX.label, Literal("x"))])}
    )
    query = "SELECT ?s WHERE { ?s <http://example.org/label> ?label }"
    assert store.select(query, {"label": Literal(HOSTILE)}) == [{"s": EX.a}]
    assert store.select(query, {"label": Literal(HOSTILE + "!")}) == []
    assert len(graph_triples(store, G1)) == 2


def test_ask_answers_with_bindings(people: Store) -> None:
    query = "ASK { ?who <http://example.org/name> ?name }"
    assert people.ask(query, {"name": Literal("Alice")})
    assert not people.ask(query, {"name": Literal("Carol")})


def test_construct_gives_serialisable_triples(people: Store) -> None:
    result = people.query(
        "CONSTRUCT { ?who a <http://example.org/Person> } WHERE { ?who <http://example.org/name> ?n }"
    )
    assert isinstance(result, QueryTriples)
    text = result.serialize(format=RdfFormat.N_TRIPLES)
    assert set(parse(text, RdfFormat.N_TRIPLES)) == {
        Quad(EX.alice, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), EX.Person),
        Quad(EX.bob, NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), EX.Person),
    }


def test_default_graph_is_the_union_of_every_graph_and_the_real_default(people: Store) -> None:
    rows = people.select("SELECT ?o WHERE { ?s ?p ?o }")
    assert {row["o"].value for row in rows} == {"Alice", "Bob", "in the default graph"}


def test_naming_default_graphs_restricts_the_dataset(people: Store) -> None:
    rows = people.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph=[G1])
    assert [row["o"].value for row in rows] == ["Alice"]
    rows = people.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", default_graph=[G1])
    assert list(rows) == []  # as in the SPARQL protocol: named graphs not named are absent


def test_naming_named_graphs_restricts_the_dataset(people: Store) -> None:
    rows = people.query("SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[G2])
    assert [(row["g"], row["o"].value) for row in rows] == [(G2, "Bob")]
    assert list(people.query("SELECT ?o WHERE { ?s ?p ?o }", named_graphs=[G2])) == []


def test_syntax_error_carries_the_position(store: Store) -> None:
    with pytest.raises(QuerySyntaxError, match=r"1:2\d"):
        store.query("SELECT ?o WHERE { ?s ?p }")


@pytest.mark.parametrize(
    ("second", "error"),
    [
        ("INSERT DATA { <http://example.org/x> }", QuerySyntaxError),
        ("CREATE GRAPH <http://example.org/g1>", StoreError),  # parses, then fails: g1 exists
    ],
    ids=["syntax-error", "failing-operation"],
)
def test_a_failed_update_changes_nothing(people: Store, second: str, error: type[StoreError]) -> None:
    before = all_quads(people)
    with pytest.raises(error):
        people.update(f"DROP GRAPH <http://example.org/g2> ; {second}")
    assert all_quads(people) == before


def test_replace_graphs_replaces_exactly_and_leaves_other_graphs_alone(store: Store) -> None:
    kept = Triple(EX.a, EX.p, Literal("kept"))
    store.replace_graphs(
        {
            G1: in_graph(G1, [Triple(EX.a, EX.p, Literal("old")), kept]),
            G2: in_graph(G2, [Triple(EX.b, EX.p, EX.c)]),
        }
    )
    node = BlankNode()
    new = [
        kept,
        Triple(EX.a, EX.q, Literal(HOSTILE, language="en")),
        Triple(EX.a, EX.r, node),
        Triple(node, EX.p, Literal(1)),
    ]
    store.replace_graphs({G1: in_graph(G1, new), G3: in_graph(G3, [Triple(EX.d, EX.p, EX.e)])})

    replaced = graph_triples(store, G1)
    assert len(replaced) == 4
    assert {
        t for t in replaced if not isinstance(t.object, BlankNode) and not isinstance(t.subject, BlankNode)
    } == set(new[:2])
    assert store.ask("ASK { GRAPH ?g { ?a ?r ?n . ?n ?p 1 } }", {"g": G1, "a": EX.a, "r": EX.r})
    assert graph_triples(store, G2) == {Triple(EX.b, EX.p, EX.c)}
    assert graph_triples(store, G3) == {Triple(EX.d, EX.p, EX.e)}


def test_replacing_with_no_triples_removes_the_graph(store: Store) -> None:
    store.replace_graphs(
        {G1: in_graph(G1, [Triple(EX.a, EX.p, EX.b)]), G2: in_graph(G2, [Triple(EX.a, EX.p, EX.c)])}
    )
    store.replace_graphs({G1: in_graph(G1, [])})
    assert store.named_graphs() == [G2]


def test_drop_graphs_ignores_missing_graphs(people: Store) -> None:
    people.drop_graphs([G1, G3])
    assert people.named_graphs() == [G2]
    assert graph_triples(people, G1) == set()


def test_import_turtle_into_a_named_graph(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "data.ttl"
    path.write_text('@prefix ex: <http://example.org/> .\nex:a ex:p "one", "two" .\n')
    store.import_file(path, RdfFormat.TURTLE, G1)
    assert graph_triples(store, G1) == {
        Triple(EX.a, EX.p, Literal("one")),
        Triple(EX.a, EX.p, Literal("two")),
    }
    assert store.named_graphs() == [G1]


def test_import_nquads_keeps_their_graphs(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "data.nq"
    path.write_text(
        "<http://example.org/a> <http://example.org/p> <http://example.org/b> <http://example.org/g2> .\n"
    )
    store.import_file(path, RdfFormat.N_QUADS)
    assert graph_triples(store, G2) == {Triple(EX.a, EX.p, EX.b)}


def test_import_of_a_dataset_puts_its_default_graph_into_the_given_graph(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "data.trig"
    path.write_text("@prefix ex: <http://example.org/> .\nex:a ex:p ex:b .\nex:g2 { ex:c ex:p ex:d }\n")
    store.import_file(path, RdfFormat.TRIG, G1)
    assert graph_triples(store, G1) == {Triple(EX.a, EX.p, EX.b)}
    assert graph_triples(store, G2) == {Triple(EX.c, EX.p, EX.d)}


@pytest.mark.parametrize("format", [RdfFormat.TRIG, RdfFormat.N_QUADS, RdfFormat.JSON_LD], ids=str)
def test_export_round_trips_the_whole_dataset(people: Store, format: RdfFormat) -> None:
    node = BlankNode()
    people.replace_graphs(
        {G3: in_graph(G3, [Triple(EX.a, EX.p, node), Triple(node, EX.p, Literal(HOSTILE))])}
    )
    buffer = io.BytesIO()
    people.export(buffer, format)
    assert _canonical(parse(buffer.getvalue(), format)) == _canonical(all_quads(people))
    assert len(all_quads(people)) == 5


def test_export_refuses_a_format_without_graphs(store: Store) -> None:
    with pytest.raises(ValueError, match="named graphs"):
        store.export(io.BytesIO(), RdfFormat.TURTLE)


def _canonical(quads: object) -> Dataset:
    dataset = Dataset(quads)  # type: ignore[arg-type]
    dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    return dataset


def test_a_query_s_own_from_clause_chooses_its_default_graph(store: Store) -> None:
    store.replace_graphs(
        {G1: in_graph(G1, [Triple(EX.a, EX.p, EX.b)]), G2: in_graph(G2, [Triple(EX.c, EX.p, EX.d)])}
    )
    rows = store.select(f"SELECT ?s FROM <{G1.value}> WHERE {{ ?s ?p ?o }}")
    assert rows == [{"s": EX.a}]
