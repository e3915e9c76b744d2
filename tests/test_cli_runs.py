"""`kg run`, `kg runs` and `kg run show` as users type them: exit codes, messages, JSON, and a
run whose process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from distributed import LocalCluster

from kg.cli import main

ROOT = Path(__file__).resolve().parent.parent
STEPS = ROOT / "tests" / "runs" / "notebooks" / "run_steps.ipynb"
KG = Path(sys.executable).parent / "kg"


@pytest.fixture
def kg(tmp_path, monkeypatch):
    """`kg` in-process on a fresh on-disk store and runs directory; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("KG_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("KG_RUNS_DIR", str(tmp_path / "runs"))
    runner = CliRunner()

    def run(*args: str, expect: int = 0) -> tuple[str, str]:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == expect, result.output + result.stderr
        return result.stdout, result.stderr

    return run


def test_a_completed_run_exits_0_and_prints_its_outputs(kg) -> None:
    out, _ = kg("run", str(STEPS), "-p", "src_name", "Mrk 421", "-p", "steps", "3")
    assert "run_steps: completed" in out
    assert 'greeting = "observed Mrk 421"' in out and "total = 0.0" in out


def test_a_failed_run_exits_1_with_the_notebooks_message(kg) -> None:
    out, _ = kg("run", str(STEPS), "-p", "src_name", "nowhere", expect=1)
    assert "run_steps: failed" in out
    assert "'nowhere' is not an object this notebook can observe" in out


def test_invalid_values_exit_2_listing_every_problem_and_nothing_runs(kg, tmp_path) -> None:
    kg("harvest", str(STEPS))
    values = ["-p", "steps", "11", "-p", "seconds", "soon", "-p", "colour", "red"]
    _, err = kg("run", "run_steps", *values, expect=2)
    assert "invalid values for run_steps:" in err
    assert "steps = 11 is above the upper limit 10" in err
    assert "seconds" in err and "soon" in err and "colour: no such parameter" in err
    assert not (tmp_path / "runs").exists()
    out, _ = kg("runs", "--json")
    assert json.loads(out) == []


def test_an_unknown_workflow_or_executor_exits_2(kg) -> None:
    _, err = kg("run", "no_such_workflow", expect=2)
    assert "no workflow named 'no_such_workflow'" in err
    kg("harvest", str(STEPS))
    _, err = kg("run", "run_steps", "--executor", "ray://cluster", expect=2)
    assert "unknown executor 'ray://cluster'" in err


def test_json_records_the_cache_hit_and_force_reruns(kg) -> None:
    first = json.loads(kg("run", str(STEPS), "-p", "src_name", "M87", "--json")[0])
    assert first["status"] == "completed" and first["cached"] is False
    assert first["values"] == {"seconds": 0.0, "src_name": "M87", "steps": 2}
    assert first["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    again = json.loads(kg("run", "run_steps", "-p", "src_name", "M87", "--json")[0])
    assert again["cached"] is True and again["id"] == first["id"]
    forced = json.loads(kg("run", "run_steps", "-p", "src_name", "M87", "--force", "--json")[0])
    assert forced["cached"] is False and forced["id"] != first["id"]
    shown = json.loads(kg("run", "show", first["id"], "--json")[0])
    assert shown == {k: v for k, v in first.items() if k != "cached"}
    listed = json.loads(kg("runs", "--workflow", "run_steps", "--json")[0])
    assert {r["id"] for r in listed} == {first["id"], forced["id"]}


def test_several_workflows_run_together_and_the_exit_code_covers_them_all(kg) -> None:
    out, _ = kg("run", str(STEPS), "--jobs", "2", "--json")
    kg("harvest", str(ROOT / "examples" / "lightcurve.ipynb"))
    records = json.loads(kg("run", "run_steps", "lightcurve", "--jobs", "2", "--force", "--json")[0])
    assert [r["workflow"] for r in records] == ["run_steps", "lightcurve"]
    assert {r["status"] for r in records} == {"completed"}
    out, _ = kg("run", "run_steps", "lightcurve", "-p", "src_name", "nowhere", "--json", expect=1)
    assert [r["status"] for r in json.loads(out)] == ["failed", "completed"]


def test_run_show_of_an_unknown_run_exits_2(kg) -> None:
    _, err = kg("run", "show", "no-such-run", expect=2)
    assert "no run 'no-such-run'" in err


def test_a_run_whose_process_is_killed_is_marked_failed_at_the_next_start(tmp_path) -> None:
    env = {**os.environ, "KG_STORE": str(tmp_path / "store"), "KG_RUNS_DIR": str(tmp_path / "runs")}
    command = [str(KG), "run", str(STEPS), "-p", "seconds", "60", "-p", "steps", "1"]
    running = subprocess.Popen(command, env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "runs").glob("*/.oda_api_progress.json")):  # the notebook is running
            assert time.monotonic() < deadline and running.poll() is None
            time.sleep(0.1)
    finally:
        os.killpg(running.pid, signal.SIGKILL)  # kg, its pool and the kernel, at once
        running.wait()
    listed = subprocess.run([str(KG), "runs", "--json"], env=env, capture_output=True, text=True, check=True)
    [run] = json.loads(listed.stdout)
    assert run["status"] == "failed"
    assert f"the run's process died (pid {running.pid} on " in run["error"]
    assert f"run {run['id']} was left active by a process that died; marked failed" in listed.stderr


def test_runs_go_to_a_dask_scheduler_named_on_the_command_line(kg) -> None:
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        out, _ = kg("run", str(STEPS), "-p", "src_name", "M82", "--executor", f"dask://{address}", "--json")
        assert json.loads(out)["status"] == "completed"
        assert "run_job" in cluster.scheduler.task_prefixes, "the job went through the scheduler"
