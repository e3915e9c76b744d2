"""Executing one notebook for one run: papermill in a fresh kernel, inside the run's own directory.

Several executions may share a process (threads of the local pool, a Dask worker), so nothing here
touches process-wide state: papermill's `cwd=` would `os.chdir` the whole process, so the kernel's working
directory is handed to nbclient instead (`resources["metadata"]["path"]` becomes the kernel process's
`cwd`), and the extra environment variables go to the kernel process only, through a kernel manager that
adds them when it launches the kernel (papermill's kernel otherwise inherits `os.environ`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Dict, Unicode
from traitlets.config import Config

from kg.runs.environment import kernel_environment
from kg.runs.layout import CAPTURE_FILE, KERNEL_LOG
from kg.runs.model import Execution, Status
from kg.runs.outputs import capture_cell, collect_outputs
from kg.runs.progress import ProgressWatcher, write_context

KERNEL_START_ATTEMPTS = 2
"""Kernels started in parallel can collide on the ports they pick; a failed start is tried once more."""

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class RunKernelManager(AsyncKernelManager):
    """The kernel manager papermill starts kernels with: `extra_env` is added to the kernel's
    environment, and the kernel process's own output (its warnings, a crash's last words) goes to
    `log_file` in the run's directory instead of the terminal of whoever started the run."""

    extra_env = Dict(key_trait=Unicode(), value_trait=Unicode()).tag(config=True)
    log_file = Unicode("").tag(config=True)

    async def start_kernel(self, **kwargs: Any) -> None:
        kwargs["env"] = {**os.environ, **kwargs.get("env", {}), **self.extra_env}
        if not self.log_file:
            await super().start_kernel(**kwargs)
            return
        with open(self.log_file, "ab") as log:  # the kernel keeps its own descriptor
            await super().start_kernel(**kwargs, stdout=log, stderr=log)


class _RunningCell:
    """Which cell the kernel is running (an nbclient hook), to name it when the kernel dies or stalls."""

    def __init__(self) -> None:
        self.index = 0
        self.source = ""

    def __call__(self, cell: nbformat.NotebookNode, cell_index: int) -> None:
        self.index, self.source = cell_index, cell.source

    def __str__(self) -> str:
        first_line = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        if len(first_line) > 80:
            first_line = first_line[:77] + "..."
        return f"cell {self.index + 1} of the executed notebook (`{first_line}`)"


def execute(
    notebook: Path,
    values: Mapping[str, object],
    run_dir: Path,
    *,
    output_names: Sequence[str],
    env: Mapping[str, str] = {},
    timeout_s: float | None = None,
    on_progress: Callable[[dict], None] | None = None,
    kernel_name: str = "python3",
    environment: Mapping[str, str] | None = None,
) -> Execution:
    """Run `notebook` with the (validated) `values` in a fresh kernel whose working directory is `run_dir`.

    `environment` is the kernel's software environment as recorded (`kernel_environment`, asked
    for here when not given: a planned run passes the one its cache key was made from).
    `env` is added to the kernel's environment only; `timeout_s` limits each cell's execution;
    `on_progress` receives each new progress report the notebook writes (see `kg.runs.progress`).
    The executed notebook is kept as `run_dir/<notebook name>`; the values of `output_names` are
    captured after the last cell (see `kg.runs.outputs`). A notebook that raises, a kernel that dies
    and a cell that times out give a FAILED execution with the message a user should read.
    """
    notebook = notebook.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir = run_dir.resolve()
    executed = run_dir / notebook.name
    if executed == notebook:
        raise ValueError(f"run directory {run_dir} holds the notebook: its executed copy would replace it")
    environment = dict(environment) if environment is not None else kernel_environment(kernel_name)
    try:
        source = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read notebook {notebook}: {error}") from error
    source.cells.append(capture_cell(output_names, run_dir))
    (run_dir / CAPTURE_FILE).unlink(missing_ok=True)
    progress_file = write_context(run_dir)

    started_at = datetime.now(UTC)
    with ProgressWatcher(progress_file, on_progress) as watcher:
        failure = _run(source, executed, values, run_dir, env, timeout_s, kernel_name)
    if failure is None and not (run_dir / CAPTURE_FILE).exists():
        failure = "the notebook exited (sys.exit) before its last cell: its outputs were not captured", None
    outputs = collect_outputs(output_names, run_dir) if failure is None else []
    if executed.exists():
        _record_input_path(executed, notebook)
    error, traceback = failure or (None, None)
    return Execution(
        status=Status.COMPLETED if failure is None else Status.FAILED,
        started_at=started_at,
        ended_at=datetime.now(UTC),
        outputs=outputs,
        error=error,
        traceback=traceback,
        environment=environment,
        executed_notebook=str(executed) if executed.exists() else None,
        progress=watcher.last,
    )


def _run(
    source: nbformat.NotebookNode,
    executed: Path,
    values: Mapping[str, object],
    run_dir: Path,
    env: Mapping[str, str],
    timeout_s: float | None,
    kernel_name: str,
) -> tuple[str, str | None] | None:
    """Execute with papermill; None when every cell ran, else the (error, traceback) to record."""
    running = _RunningCell()
    kernel_started = threading.Event()
    attempts_left = KERNEL_START_ATTEMPTS
    while True:
        attempts_left -= 1
        try:
            papermill.execute_notebook(
                source,
                str(executed),
                parameters=dict(values),
                kernel_name=kernel_name,
                progress_bar=False,
                execution_timeout=timeout_s,
                resources={"metadata": {"path": str(run_dir)}},
                kernel_manager_class=RunKernelManager,
                config=Config(
                    {"RunKernelManager": {"extra_env": dict(env), "log_file": str(run_dir / KERNEL_LOG)}}
                ),
                on_notebook_start=lambda notebook: kernel_started.set(),
                on_cell_execute=running,
            )
            return None
        except papermill.PapermillExecutionError as error:
            return _notebook_error(error)
        except DeadKernelError:
            message = f"the kernel died while running {running}: it crashed, exited or ran out of memory"
            return message, _kernel_log(run_dir)
        except CellTimeoutError:
            return f"{running} ran longer than the {timeout_s:g} s limit and was stopped", None
        except Exception as error:
            if kernel_started.is_set():
                raise
            if attempts_left == 0:
                message = f"the {kernel_name!r} kernel did not start: {type(error).__name__}: {error}"
                return message, _kernel_log(run_dir)


def _kernel_log(run_dir: Path) -> str | None:
    """What the kernel process printed (its last words when it died), for the run's traceback."""
    try:
        return (run_dir / KERNEL_LOG).read_text(errors="replace")[-4000:] or None
    except OSError:
        return None


def _notebook_error(error: papermill.PapermillExecutionError) -> tuple[str, str | None]:
    """A RuntimeError's message is meant for the user as it is; anything else is named and traced."""
    if error.ename == "RuntimeError" and error.evalue:
        return error.evalue, None
    message = f"{error.ename}: {error.evalue}" if error.evalue else error.ename
    return message, _ANSI_ESCAPE.sub("", "\n".join(error.traceback))


def _record_input_path(executed: Path, notebook: Path) -> None:
    """papermill records the in-memory input notebook whole; record the notebook's path instead."""
    document = nbformat.read(executed, as_version=4)
    document.metadata.papermill["input_path"] = str(notebook)
    nbformat.write(document, executed)
