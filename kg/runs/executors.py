"""Where run jobs execute: local kernels driven from a thread pool, or a Dask distributed cluster.

Both take `kg.runs.jobs.Job`s and hand back futures of `Execution`s; the submitting process
records everything, so executors never touch the store. `LazyExecutor` opens the one the
`--executor` value names: `local` or `dask://HOST:PORT` (a scheduler's address).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from kg.runs.jobs import Job, run_job


class ExecutorError(ValueError):
    """The executor cannot be used as configured."""


class JobFuture(Protocol):
    """What `concurrent.futures.Future` and `distributed.Future` share, as the run service uses it."""

    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> Any: ...


class Executor(Protocol):
    name: str

    def submit(self, job: Job) -> JobFuture: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Up to `jobs` runs at once on this machine, each notebook in its own kernel process.

    The kernel is the process that executes the notebook; what drives it (papermill's client:
    sending cells, collecting outputs) is light, thread-safe in `kg.runs.execute`, and runs in a
    thread of this process. A pool of Python worker processes in between measured ~0.5 s more per
    `kg run` (a forkserver start, imports in each worker) for no isolation a kernel lacks: a
    notebook that crashes takes down its kernel, never the process recording the run.
    """

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs
        self._pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kg-run")

    def submit(self, job: Job) -> Future:
        return self._pool.submit(run_job, job)

    def close(self) -> None:
        """Let running jobs finish; queued ones are cancelled (their runs are recorded failed)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Jobs on a Dask distributed cluster. Workers need this package and the kernel installed,
    and must see the notebooks and the runs directory at the same paths (a shared file system)."""

    name = "dask"

    def __init__(self, address: str) -> None:
        from distributed import Client  # imported only when asked for: it is heavy

        try:
            self._client = Client(address, timeout=10, set_as_default=False)
        except OSError as error:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {error}") from error

    def submit(self, job: Job) -> JobFuture:
        return self._client.submit(run_job, job, pure=False)

    def close(self) -> None:
        self._client.close()


class LazyExecutor:
    """The executor `spec` names (`local` with `jobs` processes, or `dask://HOST:PORT`), opened on
    the first job: runs answered from the cache start no processes and reach no cluster. A spec
    that names no executor is refused at once."""

    def __init__(self, spec: str = "local", jobs: int = 1) -> None:
        if spec != "local" and not spec.startswith("dask://"):
            raise ExecutorError(f"unknown executor {spec!r}: use `local` or `dask://HOST:PORT`")
        if jobs < 1:
            raise ExecutorError(f"--jobs must be at least 1, got {jobs}")
        self.name = "local" if spec == "local" else "dask"
        self._spec, self._jobs = spec, jobs
        self._opened: Executor | None = None

    def submit(self, job: Job) -> JobFuture:
        if self._opened is None:
            self._opened = (
                LocalExecutor(self._jobs)
                if self._spec == "local"
                else DaskExecutor("tcp://" + self._spec.removeprefix("dask://"))
            )
        return self._opened.submit(job)

    def close(self) -> None:
        if self._opened is not None:
            self._opened.close()
