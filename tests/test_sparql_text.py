"""Reading SPARQL text lexically: forms, federation targets, dataset clauses, USING."""

from __future__ import annotations

import pytest
from pyoxigraph import NamedNode, Store

from kg.sparql_text import add_using, query_dataset, query_form, remote_targets, tokens, using_conflict


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("  # CONSTRUCT in a comment\n ask {}", "ASK"),
        (
            "PREFIX : <http://a/> BASE <b/> PREFIX select: <http://c/> construct { ?s ?p ?o } WHERE {}",
            "CONSTRUCT",
        ),
        ("DESCRIBE <http://a>", "DESCRIBE"),
        ("INSERT DATA { <a> <b> <c> }", None),
        ("", None),
        ("PREFIX ex: <http://a/>", None),
    ],
)
def test_query_form(text: str, form: str | None) -> None:
    assert query_form(text) == form


def test_strings_iris_comments_variables_and_names_hide_keywords() -> None:
    text = """SELECT ?service WHERE { ?s <http://x/SERVICE> "SERVICE <a>" , 'SERVICE' ,
    \"\"\"x \\\""" SERVICE\"\"\" ; ex:SERVICE ?o } # SERVICE <http://c>"""
    assert [t.keyword for t in tokens(text) if t.keyword == "SERVICE"] == []
    assert remote_targets(text) == []


def test_remote_targets_are_resolved_like_the_parser_does() -> None:
    text = """PREFIX e: <http://127.0.0.1:7/>
    BASE <http://host/dir/>
    SELECT * { SERVICE e:query {} SERVICE SILENT ?x {} SERVICE <rel> {} SERVICE unknown:x {} }"""
    assert remote_targets(text) == [
        ("SERVICE", "http://127.0.0.1:7/query"),
        ("SERVICE", None),
        ("SERVICE", "http://host/dir/rel"),
        ("SERVICE", None),
    ]
    assert remote_targets("LOAD SILENT <http://x/data.ttl> INTO GRAPH <http://g>") == [
        ("LOAD", "http://x/data.ttl")
    ]


def test_query_dataset() -> None:
    text = (
        "PREFIX g: <http://g/> SELECT * FROM g:one FROM NAMED <http://g/two> FROM <http://g/three> WHERE {}"
    )
    assert query_dataset(text) == (("http://g/one", "http://g/three"), ("http://g/two",))
    assert query_dataset("SELECT * WHERE { ?s ?p 'FROM <http://x>' }") == ((), ())


@pytest.mark.parametrize(
    ("update", "conflict"),
    [
        ("INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p ?o }", "USING"),
        ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE"),
        ("INSERT { ?using <urn:with> 'USING' } WHERE { ?s ?p ?o }", None),
    ],
)
def test_using_conflict(update: str, conflict: str | None) -> None:
    assert using_conflict(update) == conflict


def test_add_using_gives_every_operation_the_dataset() -> None:
    store = Store()
    store.update(
        "INSERT DATA { GRAPH <http://src> { <urn:a> <urn:p> 1 } GRAPH <http://other> { <urn:b> <urn:p> 2 } }"
    )
    update = add_using(
        "INSERT { GRAPH <http://t1> { ?s ?p ?o } } WHERE { ?s ?p ?o } ;\n"
        "INSERT { GRAPH <http://t2> { ?s ?p ?o } } WHERE { { SELECT * WHERE { ?s ?p ?o } } }",
        [NamedNode("http://src")],
        [],
    )
    assert update.count("USING <http://src> WHERE") == 2
    store.update(update)
    for target in ("http://t1", "http://t2"):
        assert [q.subject.value for q in store.quads_for_pattern(None, None, None, NamedNode(target))] == [
            "urn:a"
        ]
    with pytest.raises(ValueError, match="DELETE WHERE"):
        add_using("DELETE WHERE { ?s ?p ?o }", [NamedNode("http://src")], [])
