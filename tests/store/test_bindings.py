"""Binding values into queries: where the VALUES block goes, and that values cannot escape."""

from __future__ import annotations

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Store

from kg.store.base import QuerySyntaxError
from kg.store.bindings import bind


@pytest.mark.parametrize(
    ("query", "expected_prefix"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o }", "SELECT ?s WHERE { VALUES"),
        ("select * { ?s ?p ?o }", "select * { VALUES"),
        ("ASK { ?s ?p ?o }", "ASK { VALUES"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT { ?s ?p ?o } WHERE { VALUES"),
        (
            "PREFIX ex: <http://ex.org/a#> SELECT ?s WHERE { ?s ?p ?o }",
            "PREFIX ex: <http://ex.org/a#> SELECT ?s WHERE { VALUES",
        ),
        ('SELECT ?s WHERE { ?s ?p "}" }', "SELECT ?s WHERE { VALUES"),
        ("# a { comment\nSELECT ?s WHERE { ?s ?p ?o }", "# a { comment\nSELECT ?s WHERE { VALUES"),
        ("SELECT ?s FROM <http://g> WHERE { ?s ?p ?o }", "SELECT ?s FROM <http://g> WHERE { VALUES"),
        ("DESCRIBE ?s WHERE { ?s ?p ?o }", "DESCRIBE ?s WHERE { VALUES"),
    ],
)
def test_values_open_the_where_group(query, expected_prefix):
    assert bind(query, {"s": NamedNode("http://a")}).startswith(expected_prefix)


def test_no_bindings_leaves_the_query_alone():
    assert bind("SELECT * { ?s ?p ?o }", {}) == "SELECT * { ?s ?p ?o }"


@pytest.mark.parametrize(
    "query",
    ["CONSTRUCT WHERE { ?s ?p ?o }", "DESCRIBE <http://a>", "INSERT DATA { <a> <b> <c> }"],
)
def test_forms_without_a_bindable_group_are_refused(query):
    with pytest.raises(QuerySyntaxError):
        bind(query, {"s": NamedNode("http://a")})


@pytest.mark.parametrize("name", ["s o", "s}", "1x", "s) } DELETE"])
def test_variable_names_are_checked(name):
    with pytest.raises(QuerySyntaxError, match="not a SPARQL variable name"):
        bind("SELECT * { ?s ?p ?o }", {name: Literal("x")})


def test_blank_nodes_are_refused():
    with pytest.raises(QuerySyntaxError, match="blank node"):
        bind("SELECT * { ?s ?p ?o }", {"s": BlankNode()})


@pytest.mark.parametrize(
    "hostile",
    ['x" } } ; DROP ALL ; SELECT * { "', "x' ) } #", 'a\nb\\"}', "<http://evil>", "?o ) } UNION { ?s ?p ?o"],
)
def test_hostile_values_are_only_values(hostile):
    store = Store()
    store.update('INSERT DATA { <http://a> <http://p> "kept" }')
    query = bind("SELECT ?s WHERE { ?s <http://p> ?o FILTER(?o = ?wanted) }", {"wanted": Literal(hostile)})
    assert list(store.query(query)) == []
    assert len(store) == 1


def test_bound_variable_is_visible_to_filters_and_need_not_be_projected():
    store = Store()
    store.update('INSERT DATA { <http://a> <http://p> "xyz" . <http://b> <http://p> "abc" }')
    query = bind(
        "SELECT ?s WHERE { ?s <http://p> ?o FILTER(STRSTARTS(?o, ?prefix)) }", {"prefix": Literal("xy")}
    )
    assert [row["s"] for row in store.query(query)] == [NamedNode("http://a")]
