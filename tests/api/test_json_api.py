"""The JSON API: exactly the workflows read model, a health check, the OpenAPI docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from kg.store import EmbeddedStore, RemoteStore
from kg.workflows import list_workflows, show_workflow

if TYPE_CHECKING:
    from tests.api.conftest import Server


@pytest.fixture(scope="module")
def expected(served: Server, harvested_store: Path) -> dict[str, object]:
    """What `kg.workflows` says about the served store, read straight from it (the embedded
    server's store is a copy of `harvested_store`; the remote one can be read beside the server)."""
    remote = served.settings.store.startswith("http")
    with RemoteStore(served.settings.store) if remote else EmbeddedStore(harvested_store) as store:
        summaries = list_workflows(store)
        return {
            "list": summaries,
            **{str(wf["name"]): show_workflow(store, str(wf["name"])) for wf in summaries},
        }


def test_workflows_are_the_read_models_list(served: Server, expected: dict) -> None:
    response = served.http.get("/api/workflows")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(expected["list"]))


def test_one_workflow_by_name_path_or_iri(served: Server, expected: dict) -> None:
    for summary in expected["list"]:
        wanted = json.loads(json.dumps(expected[summary["name"]]))
        for key in (summary["name"], summary["notebook_path"], summary["iri"]):
            response = served.http.get(f"/api/workflows/{quote(key, safe='/:')}")
            assert response.status_code == 200, (key, response.text)
            assert response.json() == wanted


def test_an_unknown_workflow_is_404_in_json(served: Server) -> None:
    response = served.http.get("/api/workflows/no-such-workflow", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "no workflow named" in response.json()["error"]


HOSTILE = [
    'lightcurve" } } ; DROP ALL ; SELECT * { "',
    "lightcurve' ) } #",
    'x" || true || "',
    "<https://w3id.org/oda-kg/graph/ontology>",
    "?wf",
    "lightcurve\\",
    "} UNION { ?wf a <http://odahub.io/ontology#Workflow> }",
    "http://example.org/> } ; DROP ALL ; SELECT * { <x",
]


def test_injection_through_every_parameter_cannot_change_the_query(served: Server) -> None:
    before = served.export()
    for hostile in HOSTILE:
        response = served.http.get(f"/api/workflows/{quote(hostile, safe='')}")
        assert response.status_code == 404, (hostile, response.text)
        listing = served.http.get("/api/workflows", params={"name": hostile, "q": hostile})
        assert listing.status_code == 200 and len(listing.json()) == 9
        assert served.http.get("/api/health", params={"x": hostile}).status_code == 200
    assert served.export() == before


def test_health_reports_the_store(served: Server) -> None:
    response = served.http.get("/api/health")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    assert health["store"] == ("remote" if served.settings.store.startswith("http") else "embedded")
    assert health["workflows"] == 9 and health["graphs"] >= 10 and health["triples"] > 1000


def test_docs_page_loads_swagger_from_this_server(served: Server) -> None:
    page = served.http.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)
    assert assets and all(url.startswith("/") for url in assets), assets
    for url in assets:
        assert served.http.get(url).status_code == 200, url


def test_docs_describe_every_route(served: Server) -> None:
    spec = served.http.get("/openapi.json").json()
    assert {
        "/sparql",
        "/query",
        "/update",
        "/store",
        "/store/{path}",
        "/api/workflows",
        "/api/health",
    } <= set(spec["paths"])
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))


def test_a_key_that_looks_like_an_iri_but_is_not_one_is_404(served: Server) -> None:
    response = served.http.get(
        "/api/workflows/" + quote("http://bad iri", safe=""), headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert "no workflow named" in response.json()["error"]
