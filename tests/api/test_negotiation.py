"""Content negotiation: the rules (RFC 9110 Accept) and every format over HTTP."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

import httpx
import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from api.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, negotiate, parse_accept, prefers_json

if TYPE_CHECKING:
    from tests.api.conftest import Server

SELECT = "SELECT ?name WHERE { ?wf a <http://odahub.io/ontology#Workflow> ; <http://schema.org/name> ?name }"
CONSTRUCT = (
    "CONSTRUCT { ?wf <http://schema.org/name> ?name } "
    "WHERE { ?wf a <http://odahub.io/ontology#Workflow> ; <http://schema.org/name> ?name }"
)


def _name(offer) -> str | None:
    return offer.name if offer else None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("text/*", "csv"),
        ("text/tab-separated-values", "tsv"),
        ("application/sparql-results+xml;q=0.5, text/csv;q=0.6", "csv"),
        ("application/sparql-results+xml, text/csv;q=0.9", "xml"),
        ("application/json", "json"),
        ("text/xml", "xml"),
        ("application/sparql-results+json,*/*;q=0.9", "json"),  # YASGUI
        ("text/csv;q=0, */*", "json"),
        ("*/*;q=0.1, text/tab-separated-values;q=0.2", "tsv"),
        ("text/turtle", None),
        ("application/json;q=0", None),
        ("garbage", "json"),
    ],
)
def test_solution_formats(accept: str | None, expected: str | None) -> None:
    assert _name(negotiate(accept, SOLUTION_FORMATS)) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "turtle"),
        ("*/*", "turtle"),
        ("application/*", "ntriples"),
        ("application/n-triples", "ntriples"),
        ("application/rdf+xml", "rdfxml"),
        ("application/ld+json", "jsonld"),
        ("application/json", "jsonld"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
        ("text/turtle;q=0.4, application/rdf+xml;q=0.8", "rdfxml"),
        ("application/sparql-results+json,*/*;q=0.9", "turtle"),
        ("application/sparql-results+json", None),
    ],
)
def test_graph_formats(accept: str | None, expected: str | None) -> None:
    assert _name(negotiate(accept, GRAPH_FORMATS)) == expected


def test_the_most_specific_range_decides() -> None:
    ranges = parse_accept("text/*;q=0.2, text/csv;q=0.9, */*;q=0.1")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "*", 0.2),
        ("text", "csv", 0.9),
        ("*", "*", 0.1),
    ]
    assert _name(negotiate("text/*;q=0.9, text/csv;q=0", SOLUTION_FORMATS)) == "tsv"


@pytest.mark.parametrize(
    ("accept", "json_error"),
    [
        (None, False),
        ("*/*", False),
        ("text/plain", False),
        ("application/json", True),
        ("application/sparql-results+json", True),
        ("application/sparql-results+json,*/*;q=0.9", True),
        ("text/plain, application/json;q=0.5", False),
    ],
)
def test_errors_follow_the_client(accept: str | None, json_error: bool) -> None:
    assert prefers_json(accept) is json_error


# --- over HTTP -----------------------------------------------------------------------------------


def _select(served: Server, accept: str | None, method: str = "GET") -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    if method == "HEAD":
        return served.http.head("/sparql", params={"query": SELECT}, headers=headers)
    return served.http.get("/sparql", params={"query": SELECT}, headers=headers)


@pytest.mark.parametrize("format", SOLUTION_FORMATS, ids=lambda f: f.name)
def test_every_solution_format_holds_the_same_rows(served: Server, format) -> None:
    response = _select(served, format.media_type)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == format.media_type
    assert "Accept" in response.headers["vary"]
    if format.results == QueryResultsFormat.CSV:  # lossy: pyoxigraph does not read it back
        header, *rows = csv.reader(io.StringIO(response.text))
        names = [row[0] for row in rows]
        assert header == ["name"]
    else:
        names = [row["name"].value for row in parse_query_results(response.content, format.results)]
    assert sorted(names) == sorted(_names_from_json(served))
    assert len(names) == 9


def _names_from_json(served: Server) -> list[str]:
    return [b["name"]["value"] for b in _select(served, None).json()["results"]["bindings"]]


@pytest.mark.parametrize("format", GRAPH_FORMATS, ids=lambda f: f.name)
def test_every_graph_format_holds_the_same_triples(served: Server, format) -> None:
    response = served.http.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": format.media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == format.media_type
    turtle = served.http.get("/sparql", params={"query": CONSTRUCT})
    assert turtle.headers["content-type"].startswith("text/turtle")  # the default without Accept
    expected = {q.triple for q in parse(turtle.content, RdfFormat.TURTLE)}
    assert {q.triple for q in parse(response.content, format.rdf)} == expected
    assert len(expected) == 9


def test_ask_comes_as_a_boolean_in_json_or_xml(served: Server) -> None:
    query = {"query": "ASK { ?s a <http://odahub.io/ontology#Workflow> }"}
    assert served.http.get("/sparql", params=query).json()["boolean"] is True
    xml = served.http.get("/sparql", params=query, headers={"Accept": "application/sparql-results+xml"})
    assert b"<boolean>true</boolean>" in xml.content


def test_nothing_acceptable_is_406_before_the_query_runs(served: Server) -> None:
    response = _select(served, "text/turtle")
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text
    construct = served.http.get(
        "/sparql",
        params={"query": CONSTRUCT},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert construct.status_code == 406


@pytest.mark.parametrize("accept", [None, "text/csv", "application/sparql-results+xml", "text/*;q=0.5"])
def test_head_has_the_content_type_of_get(served: Server, accept: str | None) -> None:
    get, head = _select(served, accept), _select(served, accept, "HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_error_bodies_are_json_or_text_as_the_client_prefers(served: Server) -> None:
    bad = {"query": "SELECT * WHERE {"}
    as_json = served.http.get("/sparql", params=bad, headers={"Accept": "application/sparql-results+json"})
    assert as_json.status_code == 400
    assert as_json.headers["content-type"].startswith("application/json")
    assert json.loads(as_json.text)["status"] == 400
    as_text = served.http.get("/sparql", params=bad, headers={"Accept": "text/csv"})
    assert as_text.status_code == 400 and as_text.headers["content-type"].startswith("text/plain")
    assert "syntax error" in as_text.text
