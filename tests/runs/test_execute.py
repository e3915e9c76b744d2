"""Executing one notebook: real papermill, real kernels, the example notebooks and small ones of our own."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path

import nbformat
import pytest
from astropy.table import Table

from kg.runs.execute import execute
from kg.runs.model import Execution, Status
from kg.runs.outputs import CELL_TAG

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
LIGHTCURVE = EXAMPLES / "lightcurve.ipynb"
LIGHTCURVE_OUTPUTS = ["lightcurve", "lightcurve_png", "lightcurve_table_file", "peak_mjd"]
LIGHTCURVE_STAGES = ["loading events", "selecting events", "binning", "plotting", "done"]
CONTEXT_OUTPUTS = ["working_directory", "marker", "label_seen"]


def lightcurve_values(**values: object) -> dict[str, object]:
    """Validated values as the runner hands them over: files as absolute paths."""
    return {"events_file": str(EXAMPLES / "data" / "events.fits"), "nbins": 5, **values}


@pytest.fixture(scope="module")
def lightcurve_runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Execution, list[dict]]]:
    """The light curve example run twice, concurrently, with the same values; each with its progress."""
    root = tmp_path_factory.mktemp("lightcurve")

    def run(directory: Path) -> tuple[Execution, list[dict]]:
        reports: list[dict] = []
        execution = execute(
            LIGHTCURVE,
            lightcurve_values(),
            directory,
            output_names=LIGHTCURVE_OUTPUTS,
            on_progress=reports.append,
        )
        return execution, reports

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, [root / "first", root / "second"]))


def test_lightcurve_completes_with_its_outputs(lightcurve_runs):
    execution, _ = lightcurve_runs[0]
    assert execution.status == Status.COMPLETED, execution.error
    assert execution.error is None
    outputs = {output.name: output for output in execution.outputs}
    assert list(outputs) == LIGHTCURVE_OUTPUTS
    assert [output.kind for output in execution.outputs] == ["table", "file", "file", "json"]

    table = Table.read(outputs["lightcurve"].value["text"], format="ascii.ecsv")
    assert len(table) == 5
    assert str(table["rate"].unit) == "1 / d"
    assert outputs["peak_mjd"].value == pytest.approx(table["time"][table["rate"].argmax()])

    run_dir = Path(execution.executed_notebook).parent
    png = outputs["lightcurve_png"]
    assert png.value == "lightcurve.png"
    assert png.file == "outputs/lightcurve_png/lightcurve.png"
    copy = (run_dir / png.file).read_bytes()
    assert copy == (run_dir / "lightcurve.png").read_bytes()
    assert png.value_hash == f"sha256:{hashlib.sha256(copy).hexdigest()}"


def test_progress_reports_arrive_in_the_notebooks_order_and_the_last_is_kept(lightcurve_runs):
    execution, reports = lightcurve_runs[0]
    stages = [report["stage"] for report in reports]
    assert stages == [stage for stage in LIGHTCURVE_STAGES if stage in stages]
    assert len(stages) >= 2
    assert reports[-1] == {"stage": "done", "progress": 100, "progress_max": 100, "substage": None}
    assert execution.progress == reports[-1]


def test_identical_runs_give_identical_output_hashes(lightcurve_runs):
    (first, _), (second, _) = lightcurve_runs
    assert first.executed_notebook != second.executed_notebook
    hashes = [[output.value_hash for output in execution.outputs] for execution in (first, second)]
    assert hashes[0] == hashes[1]
    assert len(set(hashes[0])) == len(LIGHTCURVE_OUTPUTS)


def test_the_executed_notebook_is_kept_with_the_values_and_the_outputs_cell(lightcurve_runs):
    execution, _ = lightcurve_runs[0]
    executed = nbformat.read(execution.executed_notebook, as_version=4)
    assert Path(execution.executed_notebook).name == LIGHTCURVE.name
    injected = next(cell for cell in executed.cells if "injected-parameters" in cell.metadata.tags)
    assert "nbins = 5" in injected.source
    assert CELL_TAG in executed.cells[-1].metadata.tags
    assert executed.metadata.papermill.input_path == str(LIGHTCURVE)
    assert execution.started_at.tzinfo == UTC
    assert execution.started_at < execution.ended_at
    assert execution.environment["papermill"]


def test_a_runtime_error_is_the_message_the_user_reads(tmp_path):
    execution = execute(
        LIGHTCURVE,
        lightcurve_values(T1="2022-01-31T00:00:00", T2="2022-01-01T00:00:00"),
        tmp_path / "run",
        output_names=LIGHTCURVE_OUTPUTS,
    )
    assert execution.status == Status.FAILED
    assert execution.error == "T2 (2022-01-01T00:00:00) must be later than T1 (2022-01-31T00:00:00)"
    assert execution.traceback is None
    assert execution.outputs == []
    assert Path(execution.executed_notebook).is_file()


def test_the_environment_given_reaches_the_kernel_only(tmp_path, monkeypatch):
    monkeypatch.delenv("MY_S3_CREDENTIALS", raising=False)
    credentials = (
        '{"endpoint": "https://s3.example.org", "bucket": "b", "access_key": "k", "secret_key": "s"}'
    )
    outputs = ["lightcurve", "peak_magnitude", "n_bins_brighter", "archive_query_used", "comment"]

    def run(name: str, env: dict[str, str]) -> Execution:
        return execute(EXAMPLES / "photometry_band.ipynb", {}, tmp_path / name, output_names=outputs, env=env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        unbound = pool.submit(run, "unbound", {})
        bound = pool.submit(run, "bound", {"MY_S3_CREDENTIALS": credentials})
        unbound, bound = unbound.result(), bound.result()

    assert unbound.status == Status.FAILED
    assert unbound.error.startswith("photometry_band needs MY_S3_CREDENTIALS: the required S3 resource")
    assert bound.status == Status.COMPLETED, bound.error
    assert "s3://b/nightly/g/" in next(o.value for o in bound.outputs if o.name == "archive_query_used")
    assert "MY_S3_CREDENTIALS" not in os.environ


def test_another_exception_is_named_with_a_plain_traceback(tmp_path):
    execution = execute(NOTEBOOKS / "exec_error.ipynb", {}, tmp_path / "run", output_names=["result"])
    assert execution.status == Status.FAILED
    assert execution.error == "ValueError: unknown band 'x'"
    assert "check_band(band)" in execution.traceback
    assert 'raise ValueError(f"unknown band {band!r}")' in execution.traceback
    assert "\x1b" not in execution.traceback
    assert execution.outputs == []


def test_a_dying_kernel_fails_the_run_naming_the_cell(tmp_path):
    execution = execute(NOTEBOOKS / "exec_kernel_death.ipynb", {}, tmp_path / "run", output_names=["status"])
    assert execution.status == Status.FAILED
    assert execution.error == (
        "the kernel died while running cell 2 of the executed notebook "
        "(`os._exit(3)  # the kernel process ends here`): it crashed, exited or ran out of memory"
    )
    assert execution.outputs == []


def test_a_cell_over_the_time_limit_is_stopped_and_fails_the_run(tmp_path):
    started = time.monotonic()
    execution = execute(
        NOTEBOOKS / "exec_context.ipynb",
        {"sleep_s": 60.0},
        tmp_path / "run",
        output_names=CONTEXT_OUTPUTS,
        timeout_s=1,
    )
    assert time.monotonic() - started < 20
    assert execution.status == Status.FAILED
    assert execution.error == (
        "cell 4 of the executed notebook (`time.sleep(sleep_s)`) "
        "ran longer than the 1 s limit and was stopped"
    )
    assert execution.outputs == []


def test_a_notebook_that_exits_early_completes_nothing(tmp_path):
    execution = execute(NOTEBOOKS / "exec_exit.ipynb", {}, tmp_path / "run", output_names=["status"])
    assert execution.status == Status.FAILED
    assert execution.error == (
        "the notebook exited (sys.exit) before its last cell: its outputs were not captured"
    )
    assert execution.outputs == []


def test_concurrent_executions_keep_their_own_directory_and_environment(tmp_path):
    cwd_before = os.getcwd()

    def run(label: str) -> Execution:
        return execute(
            NOTEBOOKS / "exec_context.ipynb",
            {"label": label, "sleep_s": 1.0},
            tmp_path / label,
            output_names=CONTEXT_OUTPUTS,
            env={"KG_EXEC_MARKER": f"marker-{label}"},
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        executions = dict(zip("ab", pool.map(run, "ab"), strict=True))

    for label, execution in executions.items():
        assert execution.status == Status.COMPLETED, execution.error
        values = {output.name: output.value for output in execution.outputs}
        assert values == {
            "working_directory": str((tmp_path / label).resolve()),
            "marker": f"marker-{label}",
            "label_seen": label,
        }
    a, b = executions.values()
    assert a.started_at < b.ended_at and b.started_at < a.ended_at  # they did run at the same time
    assert os.getcwd() == cwd_before
    assert "KG_EXEC_MARKER" not in os.environ


def test_a_run_directory_holding_the_notebook_is_refused(tmp_path):
    notebook = tmp_path / "copy.ipynb"
    notebook.write_bytes((NOTEBOOKS / "exec_exit.ipynb").read_bytes())
    with pytest.raises(ValueError, match="holds the notebook: its executed copy would replace it"):
        execute(notebook, {}, tmp_path, output_names=[])


def test_a_kernel_that_cannot_start_is_tried_twice_then_fails_the_run(tmp_path, monkeypatch, capfd):
    spec = tmp_path / "jupyter" / "kernels" / "broken"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", "import sys; sys.exit('no kernel here')", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "broken", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    execution = execute(
        NOTEBOOKS / "exec_context.ipynb", {}, tmp_path / "run", output_names=["marker"], kernel_name="broken"
    )
    assert execution.status == Status.FAILED
    assert execution.error == (
        "the 'broken' kernel did not start: RuntimeError: Kernel died before replying to kernel_info"
    )
    assert (tmp_path / "run" / "kernel.log").read_text().count("no kernel here") == 2
    assert "no kernel here" in execution.traceback
    assert "no kernel here" not in capfd.readouterr().err  # the kernel's output stays in the run


def test_a_file_that_is_not_a_notebook_is_refused_naming_it(tmp_path):
    not_a_notebook = tmp_path / "notes.ipynb"
    not_a_notebook.write_text("# not JSON")
    with pytest.raises(ValueError, match=f"cannot read notebook {not_a_notebook}: "):
        execute(not_a_notebook, {}, tmp_path / "run", output_names=[])
