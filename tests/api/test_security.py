"""Who may write and read, what a query may reach, how much a request may send and run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from api.security import token_matches
from kg.store import RemoteStore

if TYPE_CHECKING:
    from tests.api.conftest import Server, ServerFactory

UPDATE = 'INSERT DATA { GRAPH <http://example.org/evil> { <urn:a> <urn:p> "written" } }'
TURTLE = b'<urn:a> <urn:p> "written" .'


def _writes(url: str) -> list[tuple[str, str, dict]]:
    """Every way to write: (method, url, request options)."""
    return [
        ("POST", f"{url}/update", {"data": {"update": UPDATE}}),
        ("POST", f"{url}/sparql", {"data": {"update": UPDATE}}),
        (
            "POST",
            f"{url}/update",
            {"content": UPDATE, "headers": {"Content-Type": "application/sparql-update"}},
        ),
        (
            "POST",
            f"{url}/sparql",
            {"content": UPDATE, "headers": {"Content-Type": "application/sparql-update"}},
        ),
        (
            "PUT",
            f"{url}/store?graph=http://example.org/evil",
            {"content": TURTLE, "headers": {"Content-Type": "text/turtle"}},
        ),
        (
            "POST",
            f"{url}/store?graph=http://example.org/evil",
            {"content": TURTLE, "headers": {"Content-Type": "text/turtle"}},
        ),
        ("POST", f"{url}/store", {"content": TURTLE, "headers": {"Content-Type": "text/turtle"}}),
        ("PUT", f"{url}/store/evil", {"content": TURTLE, "headers": {"Content-Type": "text/turtle"}}),
        ("PUT", f"{url}/store?default", {"content": b"", "headers": {"Content-Type": "text/turtle"}}),
        ("DELETE", f"{url}/store?default", {}),
        ("DELETE", f"{url}/store?graph=https://w3id.org/oda-kg/graph/ontology", {}),
    ]


def _send(server: Server, method: str, url: str, options: dict, authorization: str | None) -> httpx.Response:
    headers = dict(options.get("headers", {}))
    if authorization:
        headers["Authorization"] = authorization
    return server.http.request(method, url, **{**options, "headers": headers})


@pytest.fixture(scope="module")
def guarded(serve_module: ServerFactory) -> Server:
    return serve_module()


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong-token", 403), ("Basic dXNlcjpwYXNz", 401), ("Bearer", 401)],
)
def test_writes_without_the_right_token_are_refused_and_change_nothing(
    guarded: Server, authorization: str | None, status: int
) -> None:
    before = guarded.export()
    assert before.count(b"\n") > 1000
    for method, url, options in _writes(guarded.url):
        response = _send(guarded, method, url, options, authorization)
        assert response.status_code == status, (method, url, response.text)
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert guarded.export() == before


def test_with_no_token_configured_every_write_is_refused(serve: ServerFactory) -> None:
    server = serve(write_tokens=())
    before = server.http.get("/store", headers={"Accept": "application/n-quads"}).content
    for method, url, options in _writes(server.url):
        response = _send(server, method, url, options, "Bearer anything")
        assert response.status_code == 403, (method, url)
        assert "KG_WRITE_TOKENS" in response.text
    assert server.http.get("/store", headers={"Accept": "application/n-quads"}).content == before


def test_the_right_token_writes(guarded: Server) -> None:
    response = guarded.http.post("/update", data={"update": UPDATE}, headers=guarded.auth)
    assert response.status_code == 204
    guarded.http.delete("/store", params={"graph": "http://example.org/evil"}, headers=guarded.auth)


def test_tokens_are_compared_whole() -> None:
    assert token_matches("abc", ["x", "abc"])
    assert not token_matches("ab", ["abc"])
    assert not token_matches("abcd", ["abc"])
    assert not token_matches("é", ["e"])


def test_read_tokens_protect_reads(serve: ServerFactory) -> None:
    server = serve(read_tokens=("reader",))
    query = {"query": "ASK {}"}
    anonymous = server.http.get("/sparql", params=query)
    assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["www-authenticate"]
    for path in ("/sparql?query=ASK%7B%7D", "/store?default", "/api/workflows", "/api/health", "/sparql"):
        assert server.http.get(path).status_code == 401, path
        assert server.http.get(path, headers={"Authorization": "Bearer nope"}).status_code == 403, path
        assert server.http.get(path, headers={"Authorization": "Bearer reader"}).status_code == 200, path
        assert server.http.get(path, headers=server.auth).status_code == 200, path  # writers read
    reader_writes = server.http.post(
        "/update", data={"update": UPDATE}, headers={"Authorization": "Bearer reader"}
    )
    assert reader_writes.status_code == 403
    assert server.http.get("/docs").status_code == 200


def test_reads_are_public_by_default(guarded: Server) -> None:
    assert guarded.http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    assert guarded.http.get("/api/workflows").status_code == 200


# --- federation ----------------------------------------------------------------------------------


@pytest.fixture
def remote_marker(oxigraph_server: str) -> Iterator[str]:
    """The Oxigraph server holding one marker triple: proof that a SERVICE call reached it."""
    with RemoteStore(oxigraph_server) as remote:
        remote.update('INSERT DATA { GRAPH <urn:marker> { <urn:marker> <urn:says> "federated" } }')
        yield f"{oxigraph_server}/query"
        remote.update("DROP SILENT GRAPH <urn:marker>")


def _federated(server: Server, endpoint: str, method: str = "GET") -> httpx.Response:
    query = f"SELECT ?o WHERE {{ SERVICE <{endpoint}> {{ <urn:marker> <urn:says> ?o }} }}"
    if method == "POST":
        return server.http.post("/sparql", data={"query": query})
    return server.http.get("/sparql", params={"query": query})


def test_service_is_refused_unless_allow_listed(guarded: Server, remote_marker: str) -> None:
    for method in ("GET", "POST"):
        refused = _federated(guarded, remote_marker, method)
        assert refused.status_code == 400 and "SERVICE" in refused.text
    update = (
        f"INSERT {{ GRAPH <urn:copy> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{remote_marker}> {{ ?s ?p ?o }} }}"
    )
    response = guarded.http.post("/update", data={"update": update}, headers=guarded.auth)
    assert response.status_code == 400
    load = guarded.http.post("/update", data={"update": f"LOAD <{remote_marker}>"}, headers=guarded.auth)
    assert load.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
        "PREFIX local: <http://127.0.0.1:1/> SELECT * WHERE { service local:sparql { ?s ?p ?o } }",
        "BASE <http://127.0.0.1:1/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    ],
)
def test_every_spelling_of_service_is_caught(guarded: Server, query: str) -> None:
    assert guarded.http.get("/sparql", params={"query": query}).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:1/>" } LIMIT 1',
        "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o } # SERVICE <http://127.0.0.1:1/>",
        "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
    ],
)
def test_service_in_strings_iris_comments_and_names_is_no_service(guarded: Server, query: str) -> None:
    assert guarded.http.get("/sparql", params={"query": query}).status_code == 200


def test_an_allow_listed_service_is_called(serve: ServerFactory, remote_marker: str) -> None:
    server = serve(allowed_services=(remote_marker.removesuffix("query"),))
    response = _federated(server, remote_marker)
    assert response.status_code == 200, response.text
    assert [b["o"]["value"] for b in response.json()["results"]["bindings"]] == ["federated"]
    other = _federated(server, "http://127.0.0.1:1/query")
    assert other.status_code == 400


# --- sizes, time and CORS ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(serve_module: ServerFactory) -> Server:
    return serve_module(max_body=2048, query_timeout=1.0)


def test_an_oversized_body_is_413(limited: Server) -> None:
    big = "ASK {}" + " " * 4096
    declared = limited.http.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert declared.status_code == 413
    chunked = limited.http.post(
        "/store?graph=http://example.org/big",
        content=iter([TURTLE] + [b"\n" * 1024] * 4),  # no Content-Length: sent chunked
        headers={"Content-Type": "text/turtle", **limited.auth},
    )
    assert chunked.status_code == 413
    assert limited.http.get("/store", params={"graph": "http://example.org/big"}).status_code == 404
    small = limited.http.post(
        "/sparql", content="ASK {}", headers={"Content-Type": "application/sparql-query"}
    )
    assert small.status_code == 200


EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_a_query_past_the_time_limit_is_stopped_and_others_still_run(limited: Server) -> None:
    outcome: dict[str, object] = {}

    def explode() -> None:
        start = time.monotonic()
        outcome["response"] = limited.http.get(
            "/sparql",
            params={"query": EXPLOSIVE},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=explode)
    thread.start()
    time.sleep(0.3)
    cheap_start = time.monotonic()
    cheap = limited.http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    cheap_seconds = time.monotonic() - cheap_start
    thread.join()
    assert cheap.status_code == 200 and cheap_seconds < 0.5
    response = outcome["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 503, response.text
    assert response.json()["status"] == 503 and "time limit" in response.json()["error"]
    assert outcome["seconds"] < 5
    assert limited.http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_cors_is_off_by_default_and_on_for_the_given_origin(guarded: Server, serve: ServerFactory) -> None:
    origin = {"Origin": "https://ui.example.org"}
    assert "access-control-allow-origin" not in guarded.http.get("/api/health", headers=origin).headers
    server = serve(cors_origins=("https://ui.example.org",))
    allowed = server.http.get("/api/health", headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://ui.example.org"
    preflight = server.http.options(
        "/update",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    other = server.http.get("/api/health", headers={"Origin": "https://evil.example.org"})
    assert "access-control-allow-origin" not in other.headers
