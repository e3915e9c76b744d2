"""The SPARQL 1.1 Protocol over HTTP, against the embedded and the remote backend alike."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx
import pytest
from pyoxigraph import NamedNode, RdfFormat, parse

if TYPE_CHECKING:
    from tests.api.conftest import Server

COUNT_WORKFLOWS = (
    "PREFIX oda: <http://odahub.io/ontology#> SELECT (COUNT(?wf) AS ?n) WHERE { ?wf a oda:Workflow }"
)
SD = "http://www.w3.org/ns/sparql-service-description#"


def _count(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _graph_size(served: Server, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    return _count(served.http.get("/sparql", params={"query": query}))


def _graph() -> str:
    return f"http://example.org/test/{uuid.uuid4().hex}"


# --- queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sparql", "/query"])
def test_a_query_by_get_form_post_and_direct_post_gives_the_same_answer(served: Server, path: str) -> None:
    url = served.url + path
    by_get = _count(served.http.get(url, params={"query": COUNT_WORKFLOWS}))
    by_form = _count(served.http.post(url, data={"query": COUNT_WORKFLOWS}))
    direct = served.http.post(
        url, content=COUNT_WORKFLOWS, headers={"Content-Type": "application/sparql-query; charset=utf-8"}
    )
    assert by_get == by_form == _count(direct) == 9


def test_unknown_parameters_are_ignored(served: Server) -> None:
    params = {"query": COUNT_WORKFLOWS, "format": "json", "output": "json", "results": "json", "x": "1"}
    assert _count(served.http.get("/sparql", params=params)) == 9


def test_default_graph_uri_overrides_from(served: Server) -> None:
    workflow_graph = served.http.get(
        "/sparql",
        params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?wf a <http://odahub.io/ontology#Workflow> } }"
        },
    ).json()["results"]["bindings"][0]["g"]["value"]
    query = f"{COUNT_WORKFLOWS.replace('WHERE', 'FROM <http://example.org/nothing> WHERE')}"
    assert _count(served.http.get("/sparql", params={"query": query})) == 0
    overridden = served.http.get("/sparql", params={"query": query, "default-graph-uri": workflow_graph})
    assert _count(overridden) == 1


def test_named_graph_uri_limits_graph_and_empties_the_default_graph(served: Server) -> None:
    graphs = served.http.get("/sparql", params={"query": "SELECT DISTINCT ?g { GRAPH ?g {} }"})
    some = [b["g"]["value"] for b in graphs.json()["results"]["bindings"]][:2]
    query = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = served.http.post("/sparql", data={"query": query, "named-graph-uri": some})
    assert _count(response) == 2
    assert _count(served.http.post("/sparql", data={"query": COUNT_WORKFLOWS, "named-graph-uri": some})) == 0


def test_a_syntax_error_is_400_with_the_parsers_message_and_position(served: Server) -> None:
    response = served.http.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p "})
    assert response.status_code == 400
    assert "1:" in response.text and "expected" in response.text


@pytest.mark.parametrize(
    "params",
    [
        [("query", "ASK {}"), ("query", "ASK {}")],
        [("query", "ASK {}"), ("update", "CLEAR DEFAULT")],
        [("query", "ASK {}"), ("default-graph-uri", "not an iri")],
        [("query", "ASK {}"), ("using-graph-uri", "http://example.org/g")],
    ],
)
def test_ambiguous_or_malformed_parameters_are_400(served: Server, params: list[tuple[str, str]]) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert served.http.post("/sparql", content=urlencode(params), headers=form).status_code == 400


def test_a_query_parameter_beside_a_direct_body_is_400(served: Server) -> None:
    response = served.http.post(
        "/sparql",
        params={"query": "ASK {}"},
        content="ASK {}",
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 400


def test_wrong_media_type_is_415_and_wrong_method_405(served: Server) -> None:
    text = served.http.post("/sparql", content="ASK {}", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415
    assert served.http.post("/sparql", content=b"ASK {}").status_code == 415
    put = served.http.put("/sparql", content="ASK {}")
    assert put.status_code == 405 and "POST" in put.headers["allow"]
    assert served.http.get("/update", params={"update": "CLEAR ALL"}).status_code == 405


def test_query_and_update_endpoints_take_only_their_kind(served: Server) -> None:
    assert served.http.post("/query", data={"update": "CLEAR ALL"}, headers=served.auth).status_code == 400
    assert served.http.post("/update", data={"query": "ASK {}"}, headers=served.auth).status_code == 400


def test_head_answers_with_the_headers_of_get(served: Server) -> None:
    params = {"query": COUNT_WORKFLOWS}
    get = served.http.get("/sparql", params=params, headers={"Accept": "text/csv"})
    head = served.http.head("/sparql", params=params, headers={"Accept": "text/csv"})
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "vary"):
        assert head.headers[name] == get.headers[name]


def test_a_runaway_result_is_an_error_never_a_cut(serve) -> None:
    server = serve(row_limit=50)
    too_many = server.http.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
    assert too_many.status_code == 400 and "50" in too_many.text
    graph = server.http.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert graph.status_code == 400
    assert server.http.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 50"}).status_code == 200


# --- updates -------------------------------------------------------------------------------------


def test_updates_by_form_and_direct_post_are_seen_by_the_next_query(served: Server) -> None:
    graph = _graph()
    form = served.http.post(
        "/sparql",
        data={"update": f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:p> 1 }} }}"},
        headers=served.auth,
    )
    assert form.status_code == 204, form.text
    assert _graph_size(served, graph) == 1
    direct = served.http.post(
        "/update",
        content=f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:p> 2 }} }}",
        headers={"Content-Type": "application/sparql-update", **served.auth},
    )
    assert direct.status_code == 204, direct.text
    assert _graph_size(served, graph) == 2
    served.http.post("/update", data={"update": f"DROP GRAPH <{graph}>"}, headers=served.auth)
    assert _graph_size(served, graph) == 0


def test_an_update_by_get_is_refused(served: Server) -> None:
    update = f"INSERT DATA {{ GRAPH <{_graph()}> {{ <urn:a> <urn:p> 1 }} }}"
    response = served.http.get("/sparql", params={"update": update}, headers=served.auth)
    assert 400 <= response.status_code < 500


def test_using_graph_uri_sets_the_update_dataset(served: Server) -> None:
    source, target = _graph(), _graph()
    insert = f"INSERT DATA {{ GRAPH <{source}> {{ <urn:a> <urn:p> 1, 2 }} }}"
    assert served.http.post("/update", data={"update": insert}, headers=served.auth).status_code == 204
    copy = f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    response = served.http.post(
        "/update", data={"update": copy, "using-graph-uri": source}, headers=served.auth
    )
    assert response.status_code == 204, response.text
    assert _graph_size(served, target) == 2


@pytest.mark.parametrize(
    "update",
    [
        "INSERT { <urn:a> <urn:p> ?o } USING <http://example.org/g> WHERE { ?s ?p ?o }",
        "WITH <http://example.org/g> INSERT { <urn:a> <urn:p> ?o } WHERE { ?s ?p ?o }",
        "DELETE WHERE { <urn:none> ?p ?o }",
    ],
)
def test_using_parameters_refuse_using_with_and_delete_where(served: Server, update: str) -> None:
    response = served.http.post(
        "/update",
        data={"update": update, "using-named-graph-uri": "http://example.org/g"},
        headers=served.auth,
    )
    assert response.status_code == 400


def test_an_update_syntax_error_is_400(served: Server) -> None:
    response = served.http.post("/update", data={"update": "INSERT DATA { <a> "}, headers=served.auth)
    assert response.status_code == 400


# --- service description -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "format"),
    [
        (None, RdfFormat.TURTLE),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
    ],
)
def test_get_without_a_query_describes_the_service(
    served: Server, accept: str | None, format: RdfFormat
) -> None:
    response = served.http.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(format.media_type)
    triples = {(q.predicate.value, q.object) for q in parse(response.content, format)}
    assert (f"{SD}endpoint", NamedNode(f"{served.url}/sparql")) in triples
    assert (f"{SD}feature", NamedNode(f"{SD}UnionDefaultGraph")) in triples
    assert (f"{SD}supportedLanguage", NamedNode(f"{SD}SPARQL11Update")) in triples
    assert (f"{SD}resultFormat", NamedNode("http://www.w3.org/ns/formats/SPARQL_Results_JSON")) in triples
    assert (f"{SD}feature", NamedNode(f"{SD}BasicFederatedQuery")) not in triples


def test_openapi_lists_the_protocol_parameters(served: Server) -> None:
    spec = served.http.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/sparql"]["get"]["parameters"]}
    assert {"query", "default-graph-uri", "named-graph-uri", "update"} <= names
