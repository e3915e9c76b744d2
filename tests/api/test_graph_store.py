"""The Graph Store HTTP Protocol at /store, against the embedded and the remote backend alike."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse

if TYPE_CHECKING:
    from tests.api.conftest import Server

TURTLE = {"Content-Type": "text/turtle"}
DATA = b'<http://example.org/a> <http://example.org/p> "one", "two" .'
MORE = b'<http://example.org/b> <http://example.org/p> "three" .'


def _graph() -> str:
    return f"http://example.org/graphs/{uuid.uuid4().hex}"


def _triples(response: httpx.Response, format: RdfFormat = RdfFormat.TURTLE) -> set[Triple]:
    assert response.status_code == 200, response.text
    return {quad.triple for quad in parse(response.content, format)}


def _objects(response: httpx.Response) -> set[str]:
    return {t.object.value for t in _triples(response)}


def _named_graphs(served: Server) -> set[str]:
    response = served.http.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"})
    return {b["g"]["value"] for b in response.json()["results"]["bindings"]}


def test_put_get_post_delete_a_graph(served: Server) -> None:
    url, graph = f"{served.url}/store", {"graph": _graph()}
    created = served.http.put(url, params=graph, content=DATA, headers={**TURTLE, **served.auth})
    assert created.status_code == 201, created.text
    assert _objects(served.http.get(url, params=graph)) == {"one", "two"}
    replaced = served.http.put(url, params=graph, content=MORE, headers={**TURTLE, **served.auth})
    assert replaced.status_code == 204
    assert _objects(served.http.get(url, params=graph)) == {"three"}
    merged = served.http.post(url, params=graph, content=DATA, headers={**TURTLE, **served.auth})
    assert merged.status_code == 204
    assert _objects(served.http.get(url, params=graph)) == {"one", "two", "three"}
    assert served.http.delete(url, params=graph, headers=served.auth).status_code == 204
    assert served.http.get(url, params=graph).status_code == 404
    assert served.http.delete(url, params=graph, headers=served.auth).status_code == 404


def test_writes_are_seen_by_sparql_queries_at_once(served: Server) -> None:
    graph = _graph()
    served.http.put("/store", params={"graph": graph}, content=DATA, headers={**TURTLE, **served.auth})
    assert graph in _named_graphs(served)
    served.http.delete("/store", params={"graph": graph}, headers=served.auth)
    assert graph not in _named_graphs(served)


def test_a_missing_graph_is_404(served: Server) -> None:
    response = served.http.get("/store", params={"graph": _graph()})
    assert response.status_code == 404
    assert served.http.head("/store", params={"graph": _graph()}).status_code == 404


def test_direct_identification_uses_the_request_url_as_the_graph_iri(served: Server) -> None:
    url = f"{served.url}/store/direct/{uuid.uuid4().hex}"
    assert served.http.put(url, content=DATA, headers={**TURTLE, **served.auth}).status_code == 201
    assert url in _named_graphs(served)
    assert _objects(served.http.get("/store", params={"graph": url})) == {"one", "two"}
    assert _objects(served.http.get(url)) == {"one", "two"}
    assert served.http.delete(url, headers=served.auth).status_code == 204
    assert served.http.get(url).status_code == 404


def test_the_graph_parameter_is_percent_decoded_exactly_once(served: Server) -> None:
    graph = f"http://example.org/{uuid.uuid4().hex}/a%20b"
    url = f"{served.url}/store?graph={quote(graph, safe='')}"  # a%20b travels as a%2520b
    assert "%2520b" in url
    assert served.http.put(url, content=DATA, headers={**TURTLE, **served.auth}).status_code == 201
    assert graph in _named_graphs(served)
    served.http.delete(url, headers=served.auth)


def test_post_to_the_store_creates_a_graph_and_says_where(served: Server) -> None:
    response = served.http.post("/store", content=DATA, headers={**TURTLE, **served.auth})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(f"{served.url}/store/")
    assert location in _named_graphs(served)
    assert _objects(served.http.get(location)) == {"one", "two"}
    served.http.delete(location, headers=served.auth)


def test_a_multipart_post_merges_every_file(served: Server) -> None:
    graph = {"graph": _graph()}
    files = [
        ("file", ("a.ttl", DATA, "text/turtle")),
        ("file", ("b.nt", MORE, "application/octet-stream")),  # the format from the file name
    ]
    response = served.http.post("/store", params=graph, files=files, headers=served.auth)
    assert response.status_code == 201, response.text
    assert _objects(served.http.get("/store", params=graph)) == {"one", "two", "three"}
    served.http.delete("/store", params=graph, headers=served.auth)


def test_the_default_graph_is_the_stores_own_not_the_union(served: Server) -> None:
    url = f"{served.url}/store?default"
    assert served.http.put(url, content=DATA, headers={**TURTLE, **served.auth}).status_code == 204
    assert _objects(served.http.get(url)) == {"one", "two"}
    before = _named_graphs(served)
    assert served.http.delete(url, headers=served.auth).status_code == 204
    assert _triples(served.http.get(url)) == set()
    assert _named_graphs(served) == before


def test_a_dataset_posted_to_the_store_keeps_its_graphs(served: Server) -> None:
    one, two = _graph(), _graph()
    trig = f'<{one}> {{ <urn:s> <urn:p> "1" }} <{two}> {{ <urn:s> <urn:p> "2" }}'
    response = served.http.post(
        "/store", content=trig, headers={"Content-Type": "application/trig", **served.auth}
    )
    assert response.status_code == 204, response.text
    assert {one, two} <= _named_graphs(served)
    dataset = served.http.get("/store", headers={"Accept": "application/n-quads"})
    assert dataset.headers["content-type"].startswith("application/n-quads")
    assert f'<urn:s> <urn:p> "2" <{two}> .'.encode() in dataset.content
    for graph in (one, two):
        served.http.delete("/store", params={"graph": graph}, headers=served.auth)


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"<http://example.org/a> <http://example.org/p> .", "text/turtle", 400),
        (b"<http://example.org/a> <http://example.org/p> 1 .", "text/plain", 415),
        (b"<http://example.org/a> <http://example.org/p> 1 .", None, 415),
        (b"<http://g> { <http://a> <http://p> 1 }", "application/trig", 400),  # names a graph
    ],
)
def test_bad_bodies_are_refused_and_write_nothing(
    served: Server, content: bytes, content_type: str | None, status: int
) -> None:
    graph = {"graph": _graph()}
    headers = {"Content-Type": content_type} if content_type else {}
    response = served.http.put("/store", params=graph, content=content, headers={**headers, **served.auth})
    assert response.status_code == status, response.text
    assert served.http.get("/store", params=graph).status_code == 404


@pytest.mark.parametrize(
    ("accept", "format"),
    [
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("text/turtle;q=0.1, application/n-triples;q=0.2", RdfFormat.N_TRIPLES),
    ],
)
def test_a_graph_comes_in_the_accepted_format(served: Server, accept: str, format: RdfFormat) -> None:
    graph = {"graph": _graph()}
    served.http.put("/store", params=graph, content=DATA, headers={**TURTLE, **served.auth})
    response = served.http.get("/store", params=graph, headers={"Accept": accept})
    assert response.headers["content-type"].startswith(format.media_type)
    subject, predicate = NamedNode("http://example.org/a"), NamedNode("http://example.org/p")
    assert _triples(response, format) == {Triple(subject, predicate, Literal(v)) for v in ("one", "two")}
    head = served.http.head("/store", params=graph, headers={"Accept": accept})
    assert head.headers["content-type"] == response.headers["content-type"]
    assert head.headers["content-length"] == response.headers["content-length"]
    assert served.http.get("/store", params=graph, headers={"Accept": "text/csv"}).status_code == 406
    served.http.delete("/store", params=graph, headers=served.auth)


@pytest.mark.parametrize(
    "params", [{"graph": "not an iri"}, {"graph": "http://a", "default": ""}, [("graph", "http://a")] * 2]
)
def test_graph_naming_mistakes_are_400(served: Server, params) -> None:
    assert served.http.get("/store", params=params).status_code == 400


def test_put_and_delete_need_a_graph(served: Server) -> None:
    assert served.http.delete("/store", headers=served.auth).status_code == 400
    assert served.http.put("/store", content=DATA, headers={**TURTLE, **served.auth}).status_code == 400
