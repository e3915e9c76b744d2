"""Running planned runs: the cache, the executor, and the lifecycle written to the graph.

The process holding the store (`kg run`, or `kg serve` for the API) is the only one that writes.
A run is written as planned when it is handed to the executor, as active once its job has
started (the job's first act is to write the run directory's progress context), with its
progress as it comes, and as completed or failed at the end. Runs are marked with this
process as their supervisor, so one left active by a process that died is marked failed at
the next start (`kg.runs.records.mark_dead_runs`).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kg.runs.cache import find_cached
from kg.runs.config import RunConfig
from kg.runs.executors import Executor, JobFuture
from kg.runs.jobs import Job
from kg.runs.layout import CONTEXT_FILE, PROGRESS_FILE
from kg.runs.model import Execution, Run, Status
from kg.runs.planning import Plan
from kg.runs.progress import read_report
from kg.runs.records import worker_id, write_run
from kg.store.base import Store

#: How often active runs are looked at for progress and completion.
POLL_INTERVAL_S = 0.05
#: Least time between two writes of one run's progress to the graph.
PROGRESS_WRITE_INTERVAL_S = 0.5


@dataclass
class Tracked:
    """A run being followed: its record as last written, and where its job stands."""

    run: Run
    cached: bool = False
    """True when an earlier identical run answered: `run` is that run, nothing executed."""
    future: JobFuture | None = None
    run_dir: Path | None = None
    _progress_written: float = 0.0

    @property
    def finished(self) -> bool:
        return self.run.status in (Status.COMPLETED, Status.FAILED)


class RunService:
    """Starts planned runs on an executor and records them in `store` as they go.

    `on_write` is called after every write (the server passes its query runner's
    `store_changed`, so queries see each step).
    """

    def __init__(
        self,
        store: Store,
        config: RunConfig,
        executor: Executor,
        on_write: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.config = config
        self.executor = executor
        self._on_write = on_write
        self._supervisor = worker_id()

    def start(self, plan: Plan, *, force: bool = False) -> Tracked:
        """Answer from the cache (unless `force`), else record the run as planned and submit it."""
        if not force and (cached := find_cached(self.store, plan.run.cache_key)):
            return Tracked(self._cached_run(cached, plan.run), cached=True)
        run, run_dir = plan.run, self.config.runs_dir / plan.run.id
        run.worker = self._supervisor
        self._write(run)
        job = Job(
            notebook=run.notebook,
            values=run.values,
            run_dir=str(run_dir.resolve()),
            output_names=tuple(str(o["name"]) for o in plan.workflow["outputs"]),  # type: ignore[attr-defined]
            kernel_env=plan.kernel_env,
            astroquery_timeout_s=self.config.astroquery_timeout_s,
            cell_timeout_s=self.config.cell_timeout_s,
            kernel_name=self.config.kernel_name,
            environment=plan.environment,
        )
        tracked = Tracked(run, run_dir=run_dir)
        try:
            tracked.future = self.executor.submit(job)
        except Exception as error:  # the executor itself failed: the run never started
            self._finish(tracked, _failure(run, f"the {self.executor.name} executor refused the run", error))
        return tracked

    def wait(self, tracked: list[Tracked], on_update: Callable[[Tracked], None] = lambda t: None) -> None:
        """Follow `tracked` runs until each has finished, calling `on_update` at every change."""
        following = [t for t in tracked if not t.finished and t.future is not None]
        while following:
            for t in list(following):
                changed = self._observe(t)
                if t.future.done():  # type: ignore[union-attr]
                    self._finish(t, self._outcome(t))
                    following.remove(t)
                    changed = True
                if changed:
                    on_update(t)
            if following:
                time.sleep(POLL_INTERVAL_S)

    def _observe(self, t: Tracked) -> bool:
        """Note a job that has started and new progress; whether anything changed."""
        run, run_dir = t.run, t.run_dir
        assert run_dir is not None
        changed = False
        if run.status is Status.PLANNED and (run_dir / CONTEXT_FILE).exists():
            run.status = Status.ACTIVE
            run.started_at = datetime.fromtimestamp((run_dir / CONTEXT_FILE).stat().st_mtime, UTC)
            self._write(run)
            changed = True
        report = read_report(run_dir / PROGRESS_FILE) if run.status is Status.ACTIVE else None
        if report is not None and report != run.progress:
            run.progress = report
            if time.monotonic() - t._progress_written >= PROGRESS_WRITE_INTERVAL_S:
                self._write(run)
                t._progress_written = time.monotonic()
            changed = True
        return changed

    def _outcome(self, t: Tracked) -> Execution:
        try:
            return t.future.result()  # type: ignore[union-attr]
        except Exception as error:  # the job's process died, or the executor lost it
            what = f"the process executing the run on the {self.executor.name} executor failed"
            return _failure(t.run, what, error)

    def _finish(self, t: Tracked, execution: Execution) -> None:
        run = t.run
        run.execution, run.status, run.progress = execution, execution.status, None
        run.started_at = run.started_at or execution.started_at
        self._write(run)

    def _write(self, run: Run) -> None:
        write_run(self.store, run)
        self._on_write()

    def _cached_run(self, run_id: str, asked: Run) -> Run:
        """The earlier run answering `asked`, as a summary: id and status are what callers use."""
        return Run(
            id=run_id,
            workflow=asked.workflow,
            workflow_name=asked.workflow_name,
            notebook=asked.notebook,
            content_hash=asked.content_hash,
            values=asked.values,
            cache_key=asked.cache_key,
            created_at=asked.created_at,
            status=Status.COMPLETED,
        )


def _failure(run: Run, what: str, error: BaseException) -> Execution:
    now = datetime.now(UTC)
    return Execution(
        status=Status.FAILED,
        started_at=run.started_at or now,
        ended_at=now,
        error=f"{what}: {type(error).__name__}: {error}",
        traceback="".join(traceback.format_exception(error)),
    )
