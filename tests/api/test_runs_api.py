"""The runs JSON API on a real server: runs of the example notebooks start with a write token,
execute in the server's background with real kernels, and are recorded where queries see them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest

from api.settings import Settings
from kg.runs.model import Run, Status
from kg.runs.records import show_run, write_run
from kg.store import EmbeddedStore

from .conftest import ROOT, TOKEN, running

if TYPE_CHECKING:
    from tests.api.conftest import Server, ServerFactory

RUN_TIMEOUT_S = 60.0
JSON = {"Accept": "application/json"}
LIGHTCURVE_OUTPUTS = {"lightcurve", "lightcurve_png", "lightcurve_table_file", "peak_mjd"}
#: T1 and T2 outside the simulated event list: valid values the notebook refuses with a RuntimeError.
UNCOVERED = {"T1": "2023-01-01T00:00:00", "T2": "2023-02-01T00:00:00"}
HOSTILE = [
    'lightcurve" } } ; DROP ALL ; SELECT * { "',
    "lightcurve' ) } #",
    "} UNION { ?run a <https://w3id.org/oda-kg#Run> }",
    "http://example.org/> } ; DROP ALL ; SELECT * { <x",
    "?run",
]


@pytest.fixture(scope="module")
def server(serve_module: ServerFactory) -> Server:
    """One server over the harvested examples (embedded store, query worker processes)."""
    return serve_module()


def start(server: Server, body: object, **headers: str) -> httpx.Response:
    return server.http.post("/api/runs", json=body, headers={**server.auth, **JSON, **headers})


def follow(server: Server, location: str) -> tuple[dict, list[dict]]:
    """Poll a run's record until it has finished: the final record, and every record seen on the way."""
    seen = []
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        response = server.http.get(location)
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["status"] in (Status.COMPLETED, Status.FAILED):
            return seen[-1], seen
        time.sleep(0.1)
    raise AssertionError(f"{location} did not finish in {RUN_TIMEOUT_S} s: {seen[-1]}")


@pytest.fixture(scope="module")
def first_run(server: Server) -> tuple[httpx.Response, dict, list[dict]]:
    """A lightcurve run started through the API and followed to its end."""
    response = start(server, {"workflow": "lightcurve", "values": {"nbins": 30}})
    assert response.status_code == 202, response.text
    final, seen = follow(server, response.headers["Location"])
    return response, final, seen


@pytest.fixture(scope="module")
def two_more_runs(server: Server) -> tuple[dict, dict]:
    """A lightcurve run its notebook refuses and a spectrum fit, executing at once, to their ends."""
    failing = start(server, {"workflow": "lightcurve", "values": UNCOVERED})
    other = start(server, {"workflow": "spectrum_fit"})
    assert failing.status_code == other.status_code == 202, (failing.text, other.text)
    return follow(server, failing.headers["Location"])[0], follow(server, other.headers["Location"])[0]


def listed(server: Server) -> list[dict]:
    response = server.http.get("/api/runs")
    assert response.status_code == 200
    return response.json()


def test_starting_a_run_needs_a_write_token(server: Server) -> None:
    before, runs_before = server.export(), listed(server)
    body = {"workflow": "lightcurve", "values": {"nbins": 12}}
    anonymous = server.http.post("/api/runs", json=body, headers=JSON)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in anonymous.json()["error"]
    wrong = server.http.post("/api/runs", json=body, headers={"Authorization": "Bearer nope", **JSON})
    assert wrong.status_code == 403
    assert "not accepted" in wrong.json()["error"]
    assert listed(server) == runs_before
    assert server.export() == before


def test_invalid_values_are_refused_with_every_problem(server: Server) -> None:
    before = server.export()
    values = {"nbins": 500, "T1": "2022-02-01T00:00:00", "T2": "2022-01-01T00:00:00", "nbinz": 3}
    response = start(server, {"workflow": "lightcurve", "values": values})
    assert response.status_code == 400
    error = response.json()
    assert error["status"] == 400
    problems = error["problems"]
    assert len(problems) == 3, problems
    assert any("nbins = 500 is above the upper limit 100" in p for p in problems), problems
    assert any("T2 = '2022-01-01T00:00:00' is not after T1" in p for p in problems), problems
    assert any("nbinz" in p and "nbins" in p for p in problems), problems  # unknown name, and a suggestion
    assert all(p in error["error"] for p in problems)
    as_text = server.http.post(
        "/api/runs", json={"workflow": "lightcurve", "values": values}, headers=server.auth
    )
    assert as_text.status_code == 400 and as_text.headers["content-type"].startswith("text/plain")
    assert all(p in as_text.text for p in problems)
    assert server.export() == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{nbins: 3", "the body must be JSON"),
        (b'["lightcurve"]', "the body must be a JSON object"),
        (b'{"values": {}}', '"workflow" must be'),
        (b'{"workflow": "lightcurve", "values": [30]}', '"values" must be an object'),
        (b'{"workflow": "lightcurve", "force": "yes"}', '"force" must be true or false'),
        (b'{"workflow": "lightcurve", "value": {"nbins": 3}}', "unknown field 'value'"),
    ],
)
def test_a_malformed_request_is_400_naming_the_problem(server: Server, body: bytes, expected: str) -> None:
    response = server.http.post("/api/runs", content=body, headers={**server.auth, **JSON})
    assert response.status_code == 400
    assert expected in response.json()["error"]


def test_an_unknown_workflow_is_404(server: Server) -> None:
    response = start(server, {"workflow": "no-such-workflow"})
    assert response.status_code == 404
    assert "no workflow named 'no-such-workflow'" in response.json()["error"]


def test_a_notebook_file_is_not_harvested_through_the_api(server: Server, tmp_path: Path) -> None:
    notebook = tmp_path / "brand_new.ipynb"
    shutil.copy(ROOT / "examples" / "lightcurve.ipynb", notebook)
    before = server.export()
    response = start(server, {"workflow": str(notebook)})
    assert response.status_code == 404
    assert server.export() == before


def test_a_missing_resource_is_400_naming_it_and_its_variable(server: Server) -> None:
    before = server.export()
    response = start(server, {"workflow": "photometry_band"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "oda:MyS3" in error and "MY_S3_CREDENTIALS" in error and "KG_RESOURCES" in error
    assert server.export() == before


def test_a_started_run_executes_in_the_background(server: Server, first_run: tuple) -> None:
    response, final, seen = first_run
    started = response.json()
    assert response.headers["Location"] == f"/api/runs/{quote(started['id'], safe='')}"
    assert started["status"] == Status.PLANNED and started["cached"] is False
    assert started["workflow"] == "lightcurve" and started["values"]["nbins"] == 30
    assert final["status"] == Status.COMPLETED, final["error"]
    assert {o["name"] for o in final["outputs"]} == LIGHTCURVE_OUTPUTS
    assert final["progress"]["stage"] == "done"  # the notebook's last report
    order = [Status.PLANNED, Status.ACTIVE, Status.COMPLETED]
    statuses = [order.index(record["status"]) for record in seen]
    assert statuses == sorted(statuses)
    assert Status.ACTIVE in {
        record["status"] for record in seen
    }  # followed while it ran, not only at the end


def test_queries_see_the_run_once_written(server: Server, first_run: tuple) -> None:
    run_id = first_run[1]["id"]
    query = (
        "PREFIX schema: <http://schema.org/> SELECT ?status WHERE { "
        f"?run schema:identifier {json.dumps(run_id)} ; schema:actionStatus ?status }}"
    )
    response = server.http.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200
    assert [b["status"]["value"] for b in response.json()["results"]["bindings"]] == [
        "http://schema.org/CompletedActionStatus"
    ]


def test_an_identical_request_answers_from_the_cache(server: Server, first_run: tuple) -> None:
    first = first_run[1]
    before = server.export()
    response = start(server, {"workflow": first["workflow_iri"], "values": {"nbins": "30"}})
    assert response.status_code == 200, response.text
    cached = response.json()
    assert cached["cached"] is True
    assert cached["id"] == first["id"] and cached["status"] == Status.COMPLETED
    assert server.export() == before


def test_force_runs_again(server: Server, first_run: tuple) -> None:
    first = first_run[1]
    response = start(server, {"workflow": "lightcurve", "values": {"nbins": 30}, "force": True})
    assert response.status_code == 202, response.text
    assert response.json()["id"] != first["id"]
    final, _ = follow(server, response.headers["Location"])
    assert final["status"] == Status.COMPLETED and final["cache_key"] == first["cache_key"]


def test_a_notebook_error_fails_the_run_with_its_message(two_more_runs: tuple) -> None:
    failed, _ = two_more_runs
    assert failed["status"] == Status.FAILED
    assert failed["error"] == (
        "the event list covers MJD 59575.02-59616.00, not 2023-01-01T00:00:00 to 2023-02-01T00:00:00"
    )
    assert failed["outputs"] == []


def test_runs_are_listed_newest_first_and_filtered_by_workflow(
    server: Server, first_run: tuple, two_more_runs: tuple
) -> None:
    runs = listed(server)
    ids = [run["id"] for run in runs]
    assert {first_run[1]["id"], *(r["id"] for r in two_more_runs)} <= set(ids)
    created = [run["created_at"] for run in runs]
    assert created == sorted(created, reverse=True)
    by_workflow = server.http.get("/api/runs", params={"workflow": "lightcurve"}).json()
    assert by_workflow == [run for run in runs if run["workflow"] == "lightcurve"]
    assert len(by_workflow) == len(runs) - 1
    spectrum = server.http.get("/api/runs", params={"workflow": two_more_runs[1]["workflow_iri"]}).json()
    assert [run["id"] for run in spectrum] == [two_more_runs[1]["id"]]
    assert spectrum[0]["status"] == Status.COMPLETED


def test_an_unknown_run_is_404(server: Server) -> None:
    response = server.http.get("/api/runs/lightcurve-00000000", headers=JSON)
    assert response.status_code == 404
    assert response.json()["error"] == "no run 'lightcurve-00000000'; GET /api/runs lists them"


def test_injection_through_the_workflow_filter_or_the_id_cannot_change_the_query(
    server: Server, first_run: tuple
) -> None:
    before = server.export()
    for hostile in HOSTILE:
        assert server.http.get("/api/runs", params={"workflow": hostile}).json() == []
        response = server.http.get(f"/api/runs/{quote(hostile, safe='')}")
        assert response.status_code == 404, (hostile, response.text)
    assert server.export() == before


def test_docs_describe_the_runs_routes(server: Server) -> None:
    paths = server.http.get("/openapi.json").json()["paths"]
    start_run = paths["/api/runs"]["post"]
    assert start_run["summary"] and paths["/api/runs"]["get"]["summary"]
    assert paths["/api/runs/{run_id}"]["get"]["summary"]
    assert start_run["requestBody"]["content"]["application/json"]["schema"]["required"] == ["workflow"]
    assert {"202", "200", "400", "401", "403", "404"} <= set(start_run["responses"])


def test_a_restarted_server_fails_runs_a_dead_one_left_and_finishes_its_own(
    harvested_store: Path, tmp_path: Path
) -> None:
    """Runs left active by a server that died are failed at the next start; a server shutting
    down records the outcome of the runs it started before it closes the store."""
    location = tmp_path / "store"
    shutil.copytree(harvested_store, location)
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    with EmbeddedStore(location) as store:
        write_run(store, _orphan(f"{socket.gethostname()}:{dead.pid}:1.00"))
    with (
        running(Settings(store=str(location), write_tokens=(TOKEN,))) as url,
        httpx.Client(base_url=url) as http,
    ):
        orphan = http.get("/api/runs/orphan-1").json()
        assert orphan["status"] == Status.FAILED
        assert f"pid {dead.pid}" in orphan["error"] and "died" in orphan["error"]
        response = http.post(
            "/api/runs", json={"workflow": "lightcurve"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 202, response.text
    with EmbeddedStore(location) as store:
        record = show_run(store, response.json()["id"])
    assert record["status"] == Status.COMPLETED, record["error"]
    assert {o["name"] for o in record["outputs"]} == LIGHTCURVE_OUTPUTS


def _orphan(worker: str) -> Run:
    return Run(
        id="orphan-1",
        workflow="https://w3id.org/oda-kg/workflow/lightcurve-fc9317d4763d",
        workflow_name="lightcurve",
        notebook=str(ROOT / "examples" / "lightcurve.ipynb"),
        content_hash="sha256:" + "a" * 64,
        values={"nbins": 20},
        cache_key="sha256:" + "c" * 64,
        created_at=datetime.now(UTC),
        status=Status.ACTIVE,
        worker=worker,
    )


def test_the_executor_is_configured_from_the_environment() -> None:
    settings = Settings.from_env({"KG_EXECUTOR": "dask://scheduler:8786", "KG_RUN_JOBS": "4"})
    assert (settings.executor, settings.run_jobs) == ("dask://scheduler:8786", 4)
    assert (Settings.from_env({}).executor, Settings.from_env({}).run_jobs) == ("local", 2)
    with pytest.raises(ValueError, match="unknown executor 'slurm'"):
        Settings.from_env({"KG_EXECUTOR": "slurm"})
    with pytest.raises(ValueError, match="KG_RUN_JOBS"):
        Settings.from_env({"KG_RUN_JOBS": "two"})
    with pytest.raises(ValueError, match="run_jobs must be positive"):
        Settings.from_env({"KG_RUN_JOBS": "0"})
