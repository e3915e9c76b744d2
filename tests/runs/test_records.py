"""Runs written to the store and read back: `kg runs`, `kg run show` and dead-worker recovery."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psutil
import pyoxigraph
import pytest

from harvesters.runs.rdf import run_quads
from kg.iris import run_graph
from kg.runs.model import AstroqueryCall, Status
from kg.runs.records import RunNotFound, list_runs, mark_dead_runs, show_run, worker_id, write_run

HOST = socket.gethostname()


def graph_triples(store, run_id: str) -> set[tuple]:
    rows = store.select("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": run_graph(run_id)})
    return {(r["s"], r["p"], r["o"]) for r in rows}


def written_once(run) -> set[tuple]:
    """The triples of `run` written on its own into an empty store (literals as a store keeps them)."""
    reference = pyoxigraph.Store()
    reference.extend(run_quads(run))
    return {(q.subject, q.predicate, q.object) for q in reference}


def test_a_completed_run_reads_back_as_written(store, make_run) -> None:
    started = make_run().execution.started_at
    calls = [
        AstroqueryCall(
            "SimbadClass",
            "query_object",
            '{"args": ["Mrk 421"], "kwargs": {}}',
            started,
            0.25,
            "ok",
            objects=("Mrk 421",),
            cache=False,
        ),
        AstroqueryCall(
            "VizierClass",
            "query_region",
            '{"args": [], "kwargs": {"radius": "0.1 deg"}}',
            started + timedelta(seconds=1),
            0.5,
            "error",
            "ConnectionError: offline",
            region="ICRS 166.1 38.2; radius=0.1 deg",
        ),
    ]
    run = make_run(execution=dataclasses.replace(make_run().execution, calls=calls))
    write_run(store, run)
    shown = show_run(store, "r1")
    assert shown["status"] == "completed"
    assert shown["workflow"] == "lightcurve"
    assert shown["workflow_iri"] == run.workflow
    assert shown["notebook"] == run.notebook
    assert shown["values"] == run.values
    assert shown["outputs"] == sorted(
        (dataclasses.asdict(o) for o in run.execution.outputs), key=lambda o: o["name"]
    )
    assert shown["environment"] == run.execution.environment
    assert shown["progress"] == run.execution.progress
    assert shown["executed_notebook"] == run.execution.executed_notebook
    assert shown["objects"] == ["Mrk 421"]
    assert (shown["content_hash"], shown["commit"], shown["cache_key"]) == (
        run.content_hash,
        run.commit,
        run.cache_key,
    )
    assert datetime.fromisoformat(shown["created_at"]) == run.created_at
    assert datetime.fromisoformat(shown["started_at"]) == run.execution.started_at
    assert datetime.fromisoformat(shown["ended_at"]) == run.execution.ended_at
    assert shown["duration_s"] == 2.5
    assert (shown["error"], shown["traceback"], shown["worker"]) == (None, None, None)
    assert [
        {
            **call,
            "started_at": datetime.fromisoformat(call["started_at"]),
            "arguments": json.dumps(call["arguments"]),
        }
        for call in shown["calls"]
    ] == [{**dataclasses.asdict(call), "objects": list(call.objects)} for call in calls]


def test_a_failed_run_keeps_its_error_and_traceback(store, make_run) -> None:
    run = make_run()
    execution = dataclasses.replace(
        run.execution,
        status=Status.FAILED,
        outputs=[],
        error="ZeroDivisionError: division by zero",
        traceback="Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero",
    )
    write_run(store, dataclasses.replace(run, status=Status.FAILED, execution=execution))
    shown = show_run(store, "r1")
    assert shown["status"] == "failed"
    assert shown["error"] == execution.error
    assert shown["traceback"] == execution.traceback
    assert shown["outputs"] == []


def test_each_lifecycle_step_replaces_the_previous_one(store, make_run) -> None:
    completed = make_run()
    planned = dataclasses.replace(completed, status=Status.PLANNED, started_at=None, execution=None)
    active = dataclasses.replace(
        planned,
        status=Status.ACTIVE,
        started_at=completed.started_at,
        worker=worker_id(),
        progress={"stage": "fitting", "progress": 40},
    )
    write_run(store, planned)
    assert show_run(store, "r1")["started_at"] is None
    write_run(store, active)
    shown = show_run(store, "r1")
    assert (shown["status"], shown["worker"], shown["progress"]) == ("active", active.worker, active.progress)
    assert shown["ended_at"] is None
    write_run(store, dataclasses.replace(completed, worker=active.worker, progress=active.progress))
    assert graph_triples(store, "r1") == written_once(completed)
    shown = show_run(store, "r1")
    assert (shown["status"], shown["worker"], shown["progress"]) == (
        "completed",
        None,
        {"stage": "done", "progress": 100},
    )
    assert [row["status"] for row in list_runs(store)] == ["completed"]


def test_runs_are_listed_newest_first_and_filtered_by_workflow(store, make_run) -> None:
    other = "https://w3id.org/oda-kg/workflow/spectrum_fit-0123456789ab"
    created = make_run().created_at
    write_run(store, make_run("old", created_at=created - timedelta(days=1)))
    write_run(
        store,
        make_run(
            "new",
            created_at=created + timedelta(days=1),
            status=Status.PLANNED,
            started_at=None,
            execution=None,
        ),
    )
    write_run(
        store, make_run("fit", workflow=other, workflow_name="spectrum_fit", cache_key="sha256:" + "f" * 64)
    )
    assert [row["id"] for row in list_runs(store)] == ["new", "fit", "old"]
    assert [row["id"] for row in list_runs(store, "lightcurve")] == ["new", "old"]
    assert [row["id"] for row in list_runs(store, other)] == ["fit"]
    assert list_runs(store, "no_such_workflow") == []
    planned = list_runs(store, "lightcurve")[0]
    assert planned == {
        "id": "new",
        "workflow": "lightcurve",
        "workflow_iri": make_run().workflow,
        "status": "planned",
        "created_at": "2025-03-02T12:00:00Z",
        "started_at": None,
        "ended_at": None,
        "error": None,
        "cache_key": "sha256:" + "c" * 64,
        "cached": False,
    }


def test_the_newest_completed_run_of_a_cache_key_is_marked_cached(store, make_run) -> None:
    failed = dataclasses.replace(make_run().execution, status=Status.FAILED, error="RuntimeError: no data")
    write_run(store, make_run("first"))
    created = make_run().created_at
    write_run(store, make_run("second", created_at=created + timedelta(hours=1)))
    write_run(
        store,
        make_run("broken", created_at=created + timedelta(hours=2), status=Status.FAILED, execution=failed),
    )
    cached = {row["id"]: row["cached"] for row in list_runs(store)}
    assert cached == {"first": False, "second": True, "broken": False}
    assert next(r for r in list_runs(store) if r["id"] == "broken")["error"] == "RuntimeError: no data"


def test_an_unknown_run_is_a_clear_error(store, make_run) -> None:
    write_run(store, make_run())
    with pytest.raises(RunNotFound, match="no run 'r2'"):
        show_run(store, "r2")


@pytest.mark.parametrize(
    "hostile",
    ['lightcurve" || true || "', 'x" } UNION { ?run ?p ?o } #', "lightcurve'} FILTER(true) {", "<urn:x> }"],
)
def test_user_text_cannot_change_the_queries(store, make_run, hostile: str) -> None:
    write_run(store, make_run())
    assert list_runs(store, hostile) == []
    with pytest.raises(RunNotFound):
        show_run(store, hostile)
    write_run(store, make_run(hostile))
    assert show_run(store, hostile)["id"] == hostile
    assert {row["id"] for row in list_runs(store, "lightcurve")} == {"r1", hostile}


def _active(make_run, run_id: str, worker: str):
    return make_run(run_id, status=Status.ACTIVE, execution=None, worker=worker, progress={"progress": 40})


def test_runs_whose_process_died_are_marked_failed(store, make_run) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = worker_id(process.pid)
    process.kill()
    process.wait()
    write_run(store, _active(make_run, "dead", worker))
    write_run(store, make_run("dead-planned", status=Status.PLANNED, execution=None, worker=worker))
    before = datetime.now(UTC)
    assert sorted(mark_dead_runs(store)) == ["dead", "dead-planned"]
    assert show_run(store, "dead-planned")["status"] == "failed"
    shown = show_run(store, "dead")
    assert shown["status"] == "failed"
    assert shown["error"] == f"the run's process died (pid {process.pid} on {HOST}) before it finished"
    assert shown["worker"] is None
    assert datetime.fromisoformat(shown["ended_at"]) >= before.replace(microsecond=0)
    assert (shown["values"], shown["progress"]) == (make_run().values, {"progress": 40})
    assert mark_dead_runs(store) == []


def test_a_reused_pid_does_not_keep_a_dead_run_alive(store, make_run) -> None:
    host, pid, started = worker_id().split(":")
    write_run(store, _active(make_run, "reused", f"{host}:{pid}:{float(started) - 3600:.2f}"))
    assert mark_dead_runs(store) == ["reused"]
    assert show_run(store, "reused")["status"] == "failed"


def test_live_and_other_hosts_runs_are_left_alone(store, make_run) -> None:
    write_run(store, _active(make_run, "live", worker_id()))
    write_run(store, _active(make_run, "live-old-format", f"{HOST}:{os.getpid()}"))
    write_run(store, _active(make_run, "elsewhere", f"other-host:{_unused_pid()}:1.00"))
    write_run(store, make_run("planned", status=Status.PLANNED, execution=None))
    assert mark_dead_runs(store) == []
    assert {row["id"]: row["status"] for row in list_runs(store)} == {
        "live": "active",
        "live-old-format": "active",
        "elsewhere": "active",
        "planned": "planned",
    }
    assert mark_dead_runs(store, host="other-host") == ["elsewhere"]


def _unused_pid() -> int:
    pid = max(psutil.pids()) + 1000
    assert not psutil.pid_exists(pid)
    return pid
