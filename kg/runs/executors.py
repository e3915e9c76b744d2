"""Where run jobs execute: a local process pool, or a Dask distributed cluster.

Both take `kg.runs.jobs.Job`s and hand back futures of `Execution`s; the submitting process
records everything, so executors never touch the store. `open_executor` picks one from the
`--executor` value: `local` or `dask://HOST:PORT` (a scheduler's address), through
`LazyExecutor`.

The local pool's processes come from a `forkserver` started once with the execution modules
imported, so a new worker costs a fork, not an interpreter start, and never inherits the
store's RocksDB threads, as a plain fork of the serving process would.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
    """`jobs` worker processes on this machine (each run's kernel is one more process)."""

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["kg.runs.jobs"])
        self._pool = self._new_pool()

    def submit(self, job: Job) -> Future:
        """A pool broken by a worker that died (its run fails with that) is replaced for the next."""
        try:
            return self._pool.submit(run_job, job)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(run_job, job)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=self._context)


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
