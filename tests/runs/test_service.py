"""Running planned runs for real: papermill kernels on the local executor and in a Dask
LocalCluster, with the lifecycle, the cache, progress, errors and resources recorded in an
on-disk store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import psutil
import pytest
from astroquery_services import AstroqueryServices
from distributed import LocalCluster
from pyoxigraph import RdfFormat

from harvesters.notebooks import harvest
from kg.iris import object_iri
from kg.runs.config import RunConfig
from kg.runs.executors import DaskExecutor, Executor, LazyExecutor
from kg.runs.model import Status
from kg.runs.planning import harvested_key, plan_run
from kg.runs.records import list_runs, show_run
from kg.runs.resources import MissingResource
from kg.runs.service import RunService, Tracked
from kg.store import EmbeddedStore

ROOT = Path(__file__).resolve().parents[2]
STEPS = ROOT / "tests" / "runs" / "notebooks" / "run_steps.ipynb"
PHOTOMETRY = ROOT / "examples" / "photometry_band.ipynb"
SECRET = "s3cr3t-access-key-that-must-stay-in-the-kernel"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path_factory.mktemp("runs") / "store")
    harvest([STEPS, PHOTOMETRY], store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def local() -> Iterator[Executor]:
    executor = LazyExecutor("local", jobs=2)
    yield executor
    executor.close()


def service(store: EmbeddedStore, executor: Executor, tmp_path: Path, **config: object) -> RunService:
    return RunService(store, RunConfig(runs_dir=tmp_path / "runs", **config), executor)  # type: ignore[arg-type]


def run(svc: RunService, target: str, values: dict, *, force: bool = False) -> tuple[Tracked, list[str]]:
    """Start and follow one run; the statuses `wait` reported, in order."""
    tracked = svc.start(
        plan_run(svc.store, harvested_key(svc.store, target), values, svc.config), force=force
    )
    seen: list[str] = []
    svc.wait([tracked], lambda t: seen.append(t.run.status.value))
    return tracked, seen


def test_a_run_is_recorded_as_it_goes_and_completes(store, local, tmp_path) -> None:
    svc = service(store, local, tmp_path)
    tracked, seen = run(svc, "run_steps", {"seconds": "1.0", "steps": "4", "src_name": "Mrk 421"})
    assert seen[0] == "active" and seen[-1] == "completed"
    record = show_run(store, tracked.run.id)
    assert record["status"] == "completed"
    assert record["values"] == {"seconds": 1.0, "src_name": "Mrk 421", "steps": 4}
    outputs = {o["name"]: o["value"] for o in record["outputs"]}
    assert outputs == {"greeting": "observed Mrk 421", "total": 4.0}
    assert record["objects"] == ["Mrk 421"]
    assert record["progress"] == {"stage": "done", "progress": 100, "progress_max": 100}
    assert record["started_at"] <= record["ended_at"]
    assert Path(record["executed_notebook"]).parent == tmp_path / "runs" / tracked.run.id


def test_progress_is_written_to_the_graph_while_the_run_is_active(store, local, tmp_path) -> None:
    svc = service(store, local, tmp_path)
    tracked = svc.start(plan_run(store, "run_steps", {"seconds": 3.0, "steps": 3}, svc.config), force=True)
    stages: list[str] = []

    def look(t: Tracked) -> None:
        if t.run.status is Status.ACTIVE:
            stages.append((show_run(store, t.run.id)["progress"] or {}).get("stage"))

    svc.wait([tracked], look)
    assert {"step 2 of 3", "step 3 of 3"} & set(stages)  # read back from the store mid-run


def test_an_identical_run_is_answered_from_the_cache_unless_forced(store, local, tmp_path) -> None:
    svc = service(store, local, tmp_path)
    first, _ = run(svc, "run_steps", {"src_name": "Vela"})
    again, seen = run(svc, "run_steps", {"src_name": "Vela", "steps": "2"})  # the default, spelled out
    assert again.cached and again.run.id == first.run.id and seen == []
    assert not (tmp_path / "runs" / f"{again.run.id}-copy").exists()
    forced, seen = run(svc, "run_steps", {"src_name": "Vela"}, force=True)
    assert not forced.cached and forced.run.id != first.run.id and seen[-1] == "completed"
    mine = [r["id"] for r in list_runs(store, "run_steps")]
    assert first.run.id in mine and forced.run.id in mine


def test_a_runtime_error_is_the_runs_message_and_failed_runs_are_not_cached(store, local, tmp_path) -> None:
    svc = service(store, local, tmp_path)
    failed, seen = run(svc, "run_steps", {"src_name": "nowhere"})
    record = show_run(store, failed.run.id)
    assert seen[-1] == "failed" and record["status"] == "failed"
    assert record["error"] == "'nowhere' is not an object this notebook can observe"
    assert record["outputs"] == []
    again, _ = run(svc, "run_steps", {"src_name": "nowhere"})
    assert not again.cached and again.run.id != failed.run.id


def test_a_required_resource_is_bound_from_configuration_and_never_recorded(store, local, tmp_path) -> None:
    credentials = {
        "endpoint": "https://s3.example.org",
        "bucket": "photometry",
        "access_key": "AKIA-TEST",
        "secret_key": SECRET,
    }
    svc = service(store, local, tmp_path, resources={"oda:S3": credentials})
    tracked, seen = run(svc, "photometry_band", {})
    assert seen[-1] == "completed", show_run(store, tracked.run.id)["error"]
    exported = BytesIO()
    store.export(exported, RdfFormat.N_QUADS)
    everything = b"".join(_files(tmp_path / "runs" / tracked.run.id))
    assert SECRET.encode() not in exported.getvalue() and SECRET.encode() not in everything
    assert SECRET not in json.dumps(show_run(store, tracked.run.id))


def test_a_missing_required_resource_refuses_the_run_before_it_starts(store, tmp_path) -> None:
    config = RunConfig(runs_dir=tmp_path / "runs")
    with pytest.raises(MissingResource) as refused:
        plan_run(store, "photometry_band", {}, config)
    assert "oda:MyS3" in str(refused.value) and "MY_S3_CREDENTIALS" in str(refused.value)
    assert not (tmp_path / "runs").exists()


def test_runs_execute_on_a_dask_cluster(store, tmp_path) -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        try:
            svc = service(store, executor, tmp_path)
            plans = [plan_run(store, "run_steps", {"src_name": name}, svc.config) for name in ("M31", "M33")]
            tracked = [svc.start(plan, force=True) for plan in plans]
            svc.wait(tracked)
        finally:
            executor.close()
    records = [show_run(store, t.run.id) for t in tracked]
    assert [r["status"] for r in records] == ["completed", "completed"]
    assert sorted(r["outputs"][0]["value"] for r in records) == ["observed M31", "observed M33"]


def test_a_run_whose_kernel_process_is_killed_fails_and_the_executor_goes_on(store, tmp_path) -> None:
    executor = LazyExecutor("local", jobs=1)
    try:
        svc = service(store, executor, tmp_path)
        plan = plan_run(store, "run_steps", {"seconds": 30.0, "steps": 1}, svc.config)
        tracked = svc.start(plan, force=True)

        def kill_the_kernel(t: Tracked) -> None:
            """SIGKILL the process executing the notebook, as the OOM killer would."""
            if t.run.status is Status.ACTIVE:
                for process in psutil.Process().children(recursive=True):
                    if "ipykernel_launcher" in " ".join(process.cmdline()):
                        process.kill()

        started = time.monotonic()
        svc.wait([tracked], kill_the_kernel)
        record = show_run(store, tracked.run.id)
        assert record["status"] == "failed" and time.monotonic() - started < 20
        assert record["error"] == (
            "the kernel died while running cell 5 of the executed notebook "
            '(`if src_name == "nowhere":`): it crashed, exited or ran out of memory'
        )
        _, seen = run(svc, "run_steps", {"src_name": "Cygnus A"}, force=True)
        assert seen[-1] == "completed"
    finally:
        executor.close()


def _files(directory: Path) -> Iterator[bytes]:
    for path in directory.rglob("*"):
        if path.is_file():
            yield path.read_bytes()


def test_astroquery_calls_made_by_a_run_are_in_its_record(tmp_path, monkeypatch) -> None:
    """End to end: the tracer in the run's kernel, its trace read back, the calls in the run graph
    and `prov:used` for the object both the values and the call name (SIMBAD replayed offline)."""
    services = AstroqueryServices(tmp_path / "services")
    for name, value in services.environment().items():
        monkeypatch.setenv(name, value)  # the kernel inherits them, as from a user's shell
    executor = LazyExecutor("local", jobs=1)
    try:
        with EmbeddedStore(tmp_path / "store") as store:
            svc = service(store, executor, tmp_path, astroquery_timeout_s=10.0)
            tracked, seen = run(svc, str(ROOT / "tests" / "runs" / "notebooks" / "aq_simbad.ipynb"), {})
            record = show_run(store, tracked.run.id)
            assert seen[-1] == "completed", record["error"]
            [call] = record["calls"]
            assert (call["module"], call["method"], call["outcome"]) == ("SimbadClass", "query_object", "ok")
            assert call["objects"] == ["Mrk 421"] and record["objects"] == ["Mrk 421"]
            used = store.select(
                "SELECT ?obj WHERE { ?run <http://www.w3.org/ns/prov#used> ?obj . "
                "?call <http://odahub.io/ontology#isRequestingAstroObject> ?obj }"
            )
            assert [row["obj"] for row in used] == [object_iri("Mrk 421")]
    finally:
        executor.close()
        services.close()
