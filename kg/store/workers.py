"""Queries that really stop at their time limit: killable worker processes over store checkpoints.

Why processes. pyoxigraph cannot cancel a query, and it releases the GIL while evaluating, so a
runaway query in a thread keeps a core busy until it ends by itself, however long that is. The
only way to stop one is to stop the process running it. Queries therefore run in worker
processes (`spawn`: the serving process has RocksDB threads, which `fork` would copy
half-alive); on timeout the supervisor SIGKILLs that one worker, which frees its CPU and
memory at once, answers `QueryTimeout`, and starts a replacement in the background. The other
workers are untouched, so one runaway query never delays the rest beyond taking a worker.

Why checkpoints. RocksDB lets one process open a store read-write, and a read-only open beside
a writer is undefined. The serving process stays the only writer; workers read RocksDB
checkpoints of it (`pyoxigraph.Store.backup`: hard links to the immutable SST files plus a
flushed memtable, so cheap on the same file system). One checkpoint per *generation* is shared
by all workers, opened read-only (read-only opens take no lock). `store_changed()` only marks
the current generation stale; the next query makes generation N+1 before it is dispatched, so
a burst of writes costs one checkpoint and every query that starts after a write was
acknowledged sees it. A worker holding an older generation reopens the newest before running
its next query. A checkpoint directory is deleted once no worker holds it and a newer one
exists; all of `<store>.checkpoints/` is removed when the pool starts and closes.

On timeout. The supervisor waits for the reply until the request's deadline (the wait for an
idle worker counts too: with all workers busy a request queues, then times out without
costing a worker). Past it: SIGKILL, reap, `QueryTimeout("query stopped after 30 s")`, and a
replacement starts in a background thread (retried with backoff if it cannot start). A worker
dying for any other reason (OOM killer) is a StoreError and is replaced the same way. Workers
exit by themselves if the server dies without killing them.

Costs measured here (2 shared cores, 1M-triple store, pyoxigraph 0.5.13):
- checkpoint: 1.5 ms when nothing changed, 11-15 ms after a write (RocksDB flushes the
  memtable into the checkpoint); hard links, so no data is copied;
- opening a checkpoint read-only: 9-16 ms (read-write: ~30 ms, and it would need one per worker);
- a pool of 2 starts in 0.17-0.26 s (interpreter, imports, open; ~0.5 s under pytest, whose
  main module `spawn` re-imports); a replacement is ready ~0.13 s after a kill; 34 MB RSS each;
- a point lookup: 0.36-0.44 ms median through the pool against 0.08 ms in-process (one pipe
  round trip, pickling); the first query after a write pays checkpoint + reopen (25-70 ms),
  and each other worker's first query its reopen (15-40 ms);
- a kill: QueryTimeout 0.53 s after the start of a 0.5 s query; the worker's CPU is free then.
A checkpoint keeps SST files the owner has since compacted away, so until it is deleted the
disk holds both; workers idle on an old generation keep at most one older checkpoint each.

`InlineRunner` is the same contract without processes, for stores the pool cannot serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Self

import pyoxigraph
from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
)

from kg.store.base import QueryResult, Store, StoreError
from kg.store.embedded import MEMORY, EmbeddedStore, dataset_options, sparql_errors
from kg.store.execution import QueryRequest, QueryResponse, QueryTimeout, RowLimitExceeded

logger = logging.getLogger(__name__)

#: Seconds a new worker may take to start and open its checkpoint before it counts as failed.
START_TIMEOUT_S = 30.0
#: Most seconds between two attempts to start a replacement worker that keeps failing.
RESTART_BACKOFF_MAX_S = 30.0
#: How often a worker checks that the serving process still exists.
ORPHAN_CHECK_S = 1.0

QueryFunction = Callable[..., QueryResult]


# --- answering one request: shared by the workers and InlineRunner ---------------------------


def answer(query: QueryFunction, request: QueryRequest) -> QueryResponse:
    """Run `request` through `query` (a `Store.query`-like callable) and serialise its result.

    Evaluation is lazy, so pyoxigraph errors can surface while rows are read: both steps sit
    inside the same error mapping.
    """
    with sparql_errors():
        result = query(
            request.sparql,
            default_graph=_graphs(request.default_graph),
            named_graphs=_graphs(request.named_graphs),
        )
        return serialise(result, request)


def serialise(result: QueryResult, request: QueryRequest) -> QueryResponse:
    """The result in the request's format; more rows or triples than `row_limit` raise
    RowLimitExceeded instead of a truncated body."""
    if isinstance(result, QueryBoolean):
        return QueryResponse(result.serialize(format=request.solutions_format), "boolean")
    if isinstance(result, QuerySolutions):
        return QueryResponse(_solutions(result, request), "solutions")
    return QueryResponse(_triples(result, request), "graph")


def _solutions(solutions: QuerySolutions, request: QueryRequest) -> bytes:
    """Solutions written as TSV first, counted as they are written, then converted.

    pyoxigraph cannot build `QuerySolutions` from rows already read, so rows cannot be counted
    in Python and serialised afterwards. Its TSV writer puts one solution per line (newlines in
    values are escaped), so a line-counting sink stops a huge result at `row_limit + 1` rows,
    before it is all in memory; the TSV is then re-read and written in the requested format
    (the round trip is byte-identical to serialising directly, the tests pin it).
    """
    sink = _LineCountingSink(request.row_limit + 1)  # + 1: the header line
    solutions.serialize(sink, QueryResultsFormat.TSV)
    tsv = sink.getvalue()
    if request.solutions_format == QueryResultsFormat.TSV:
        return tsv
    return pyoxigraph.parse_query_results(tsv, QueryResultsFormat.TSV).serialize(  # type: ignore[union-attr]
        format=request.solutions_format
    )


def _triples(triples: QueryTriples, request: QueryRequest) -> bytes:
    """Triples read up to one past the limit, then serialised together (Turtle groups subjects)."""
    kept = list(itertools.islice(triples, request.row_limit + 1))
    if len(kept) > request.row_limit:
        raise _too_many(request.row_limit, "triples")
    return pyoxigraph.serialize(kept, format=request.graph_format)  # type: ignore[return-value]


class _LineCountingSink:
    """A binary writer that refuses to hold more than `most` lines."""

    def __init__(self, most: int) -> None:
        self._most = most
        self._lines = 0
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._lines += data.count(b"\n")
        if self._lines > self._most:
            raise _too_many(self._most - 1, "rows")
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """pyoxigraph flushes its writer when done; nothing is buffered here."""

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def _too_many(limit: int, what: str) -> RowLimitExceeded:
    return RowLimitExceeded(
        f"the result has more than {limit} {what}, the most this service returns; "
        "narrow the query or add LIMIT (and OFFSET to page through it)"
    )


def _graphs(iris: Sequence[str] | None) -> list[NamedNode] | None:
    return None if iris is None else [NamedNode(iri) for iri in iris]


# --- in the calling thread --------------------------------------------------------------------


class InlineRunner:
    """Runs queries in the calling thread through `Store.query`, for stores without checkpoints.

    The time limit is NOT enforced by this runner. With a `memory:` store nothing can stop a
    query (pyoxigraph has no cancellation and an in-memory store cannot be checkpointed for
    workers): use it for tests and small local use only. With a remote store the limit is the
    HTTP client's timeout (`RemoteStore(timeout=...)`), not `request.timeout`; when it fires
    the client gets QueryTimeout, but the remote server may keep computing the query (configure
    the server's own limit, e.g. Fuseki's `arq:queryTimeout`). Oxigraph's `--timeout-s`
    answers 200 with a truncated body, which the result parser then reports as a StoreError.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def run(self, request: QueryRequest) -> QueryResponse:
        try:
            return answer(self._store.query, request)
        except StoreError as error:
            if _http_timeout(error):
                raise QueryTimeout(
                    "query stopped at the HTTP client's time limit; the remote store may still be "
                    "computing it"
                ) from error
            raise

    async def run_async(self, request: QueryRequest) -> QueryResponse:
        """`run` in a thread: the store's query blocks (a remote store waits on HTTP)."""
        return await asyncio.to_thread(self.run, request)

    def store_changed(self) -> None:
        """Queries go to the store itself, which already holds every write."""

    def close(self) -> None:
        """The store belongs to the caller, who closes it."""


def _http_timeout(error: StoreError) -> bool:
    """Whether a RemoteStore error came from httpx's timeout (httpx is loaded only if it did)."""
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(error.__cause__, httpx.TimeoutException)


# --- checkpoints -------------------------------------------------------------------------------


class _Checkpoints:
    """Numbered checkpoints of the owner's store, each deleted once nothing holds it.

    Every holder (a worker's open store, a request on its way to a worker) pins the generation
    it uses and releases it when done; the newest generation is never deleted.
    """

    def __init__(self, checkpoint: Callable[[Path], None], root: Path) -> None:
        self._checkpoint = checkpoint
        self.root = root
        self._lock = threading.Lock()
        self._pins: Counter[int] = Counter()
        self._generation = 0
        self._stale = True
        self._closed = False
        shutil.rmtree(root, ignore_errors=True)  # left by a server that was killed
        root.mkdir(parents=True)

    def changed(self) -> None:
        with self._lock:
            self._stale = True

    def acquire(self) -> tuple[int, str]:
        """The newest generation (made now if the store changed since the last one), pinned."""
        with self._lock:
            if self._closed:
                raise StoreError("the query service is shutting down")
            if self._stale:
                self._advance()
            self._pins[self._generation] += 1
            return self._generation, str(self._path(self._generation))

    def release(self, generation: int) -> None:
        with self._lock:
            self._pins[generation] -= 1
            if self._pins[generation] <= 0:
                del self._pins[generation]
                if generation != self._generation:
                    self._delete(generation)

    def remove_all(self) -> None:
        """Delete every checkpoint; later acquires fail instead of making new ones."""
        with self._lock:
            self._closed = True
            shutil.rmtree(self.root, ignore_errors=True)

    def _advance(self) -> None:
        previous, path = self._generation, self._path(self._generation + 1)
        try:
            self._checkpoint(path)
        except (OSError, StoreError) as error:
            shutil.rmtree(path, ignore_errors=True)
            raise StoreError(f"cannot checkpoint the store for the query workers: {error}") from error
        self._generation, self._stale = previous + 1, False
        if previous and not self._pins[previous]:
            self._delete(previous)

    def _path(self, generation: int) -> Path:
        return self.root / f"{generation:08d}"

    def _delete(self, generation: int) -> None:
        shutil.rmtree(self._path(generation), ignore_errors=True)


def checkpoints_directory(location: str | Path) -> Path:
    """`<store>.checkpoints` beside the store: same file system, so checkpoints are hard links."""
    path = Path(location).resolve()
    return path.with_name(f"{path.name}.checkpoints")


# --- the worker process ------------------------------------------------------------------------


def _encode(request: QueryRequest) -> dict[str, Any]:
    """The request as picklable values: pyoxigraph's format objects do not pickle."""
    values = {field.name: getattr(request, field.name) for field in fields(request)}
    values["solutions_format"] = request.solutions_format.media_type
    values["graph_format"] = request.graph_format.media_type
    return values


def _decode(values: dict[str, Any]) -> QueryRequest:
    solutions = QueryResultsFormat.from_media_type(values["solutions_format"])
    graph = RdfFormat.from_media_type(values["graph_format"])
    return QueryRequest(**{**values, "solutions_format": solutions, "graph_format": graph})


def _worker_main(conn: Connection, generation: int, path: str) -> None:
    """A worker's life: open the checkpoint, then answer requests until told to stop or orphaned.

    SIGINT is ignored: Ctrl-C in the server's terminal reaches the whole process group, and the
    supervisor decides when workers end.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_when_orphaned(os.getppid())
    try:
        db = pyoxigraph.Store.read_only(path)
    except OSError as error:
        conn.send(StoreError(f"cannot open checkpoint {path}: {error}"))
        return
    conn.send(os.getpid())
    while (message := _receive(conn)) is not None:
        wanted, wanted_path, request = message
        if wanted != generation:
            db = None  # type: ignore[assignment]  # close the old checkpoint before opening the new
            db, generation = pyoxigraph.Store.read_only(wanted_path), wanted
        conn.send(_reply(db, _decode(request)))


def _receive(conn: Connection) -> Any:
    try:
        return conn.recv()
    except EOFError:  # the supervisor closed its end
        return None


def _reply(db: pyoxigraph.Store, request: QueryRequest) -> QueryResponse | StoreError:
    """The response, or the error to raise in the supervisor (only StoreErrors cross over)."""
    try:
        return answer(lambda sparql, **graphs: db.query(sparql, **dataset_options(sparql, **graphs)), request)
    except StoreError as error:
        return error
    except Exception as error:
        return StoreError(f"query failed in its worker: {type(error).__name__}: {error}")


def _exit_when_orphaned(parent: int) -> None:
    """A daemon thread ends the worker if the server dies without killing it (e.g. SIGKILL),
    so a runaway query never outlives its server. PR_SET_PDEATHSIG would fire when the
    *thread* that started the worker ends, which replacement threads do."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="orphan-check").start()


# --- the pool ----------------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    generation: int
    """The checkpoint generation it has open (pinned in `_Checkpoints`)."""
    ready: bool = False
    reaping: threading.Lock = field(default_factory=threading.Lock)
    """Serialises kill-and-reap: close() and the request's thread may both stop a busy worker."""


_CLOSED = object()


class WorkerPool:
    """Runs queries in `workers` processes over checkpoints of `store`, killing any that overruns.

    `store` is the serving process's own on-disk `EmbeddedStore`, the only writer; the pool
    makes the checkpoints from it (a second handle on the directory would hit RocksDB's lock).
    Thread-safe: `run` may be called from many threads at once; a request waits for an idle
    worker within its own time limit. One pool per store.
    """

    def __init__(self, store: EmbeddedStore, workers: int = 2) -> None:
        if store.location == MEMORY:
            raise ValueError("an in-memory store cannot be checkpointed for workers; use InlineRunner")
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = workers
        self._checkpoints = _Checkpoints(store.checkpoint, checkpoints_directory(store.location))
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._closed = False
        self._workers: set[_Worker] = set()
        # Last in, first out: a lone client keeps getting the worker it just used, whose caches
        # and CPU are warm (~0.3 ms a query on this machine); under load all workers are busy anyway.
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._restarts: list[threading.Thread] = []
        try:
            self._start_all()
        except BaseException:
            self.close()
            raise

    def run(self, request: QueryRequest) -> QueryResponse:
        deadline = time.monotonic() + request.timeout
        worker = self._take(request, deadline)
        generation = self._dispatch(worker, request, deadline)
        answered = _poll(worker, deadline)
        return self._collect(worker, request, generation, answered)

    async def run_async(self, request: QueryRequest) -> QueryResponse:
        """`run` for an event loop: the reply is awaited on the worker's pipe, not in a thread.

        The server's hot path: a thread hop each way cost ~0.4 ms per query, as much as the
        query itself for a point lookup. Blocking steps stay off the loop: waiting for a busy
        pool's next idle worker and killing an overrunning one run in a thread.
        """
        deadline = time.monotonic() + request.timeout
        try:
            worker = self._idle.get_nowait()
            self._check_open(worker)
        except queue.Empty:
            worker = await asyncio.to_thread(self._take, request, deadline)
        generation = self._dispatch(worker, request, deadline)
        try:
            answered = await _readable(worker, deadline)
        except asyncio.CancelledError:  # nobody waits for the reply any more; the worker still owes it
            threading.Thread(
                target=self._abandon, args=(worker, request, generation, deadline), daemon=True
            ).start()
            raise
        if not answered:  # killing and reaping the worker blocks
            return await asyncio.to_thread(self._collect, worker, request, generation, False)
        return self._collect(worker, request, generation, True)

    def _abandon(self, worker: _Worker, request: QueryRequest, generation: int, deadline: float) -> None:
        """Collect a reply nobody waits for, so the worker returns to the pool (or, past the
        deadline, is killed) as if its caller were still there."""
        with contextlib.suppress(StoreError):
            self._collect(worker, request, generation, _poll(worker, deadline))

    def store_changed(self) -> None:
        """Queries started from now on run on a checkpoint taken after this call."""
        self._checkpoints.changed()

    def pids(self) -> list[int]:
        """Process ids of the workers started and ready (for monitoring and tests)."""
        with self._lock:
            return [worker.process.pid for worker in self._workers if worker.ready and worker.process.pid]

    def close(self) -> None:
        """Kill every worker (a running query's caller gets StoreError) and delete the checkpoints.

        A worker's connection is closed by whoever holds the worker: here the idle ones; a busy
        one's by its request thread, which the kill wakes (closing it under that thread's feet
        could hand its file descriptor number to someone else).
        """
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            _kill(worker)
        with contextlib.suppress(queue.Empty):
            while True:
                if isinstance(idle := self._idle.get_nowait(), _Worker):
                    idle.conn.close()
        self._idle.put(_CLOSED)
        with self._lock:
            restarts = list(self._restarts)
        for thread in restarts:
            thread.join()
        self._checkpoints.remove_all()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- starting workers

    def _start_all(self) -> None:
        """Start every worker at once, then wait for each: startup is mostly interpreter imports."""
        started = [self._spawn() for _ in range(self.size)]
        for worker in started:
            if worker is not None:
                self._await_ready(worker)

    def _spawn(self) -> _Worker | None:
        """A new worker process on the newest checkpoint; None once the pool is closed."""
        generation, path = self._checkpoints.acquire()
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(theirs, generation, path), daemon=True, name="kg-query-worker"
        )
        try:
            with self._lock:
                if self._closed:
                    return None
                process.start()
                worker = _Worker(process, ours, generation)
                self._workers.add(worker)  # from here on close() kills it, even while it starts
            return worker
        except OSError as error:  # fork/exec failed: out of processes or memory
            raise StoreError(f"cannot start a query worker: {error}") from error
        finally:
            theirs.close()
            if process.pid is None:
                ours.close()
                self._checkpoints.release(generation)

    def _await_ready(self, worker: _Worker) -> None:
        """Wait for the worker's hello; it then joins the idle queue."""
        try:
            ready = worker.conn.recv() if worker.conn.poll(START_TIMEOUT_S) else None
        except (EOFError, OSError):
            ready = None
        if not isinstance(ready, int):
            self._retire(worker, replace=False)
            reason = ready or f"no answer within {START_TIMEOUT_S:g} s"
            raise StoreError(f"a query worker failed to start: {reason}")
        worker.ready = True
        self._idle.put(worker)

    def _replace(self) -> None:
        """Start one worker in the background, retrying with backoff until it starts or the pool
        closes: a server whose workers cannot start (disk full) heals once the cause is gone."""
        for attempt in itertools.count():
            try:
                worker = self._spawn()
                if worker is not None:
                    self._await_ready(worker)
                return
            except StoreError as error:  # _spawn and _await_ready turn every failure into one
                if self._closed:
                    return
                logger.error("%s; retrying", error)
                time.sleep(min(2.0**attempt, RESTART_BACKOFF_MAX_S))

    # --- running a request

    def _take(self, request: QueryRequest, deadline: float) -> _Worker:
        """An idle worker, waiting at most until the request's deadline."""
        try:
            worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise _busy(request, self.size) from None
        self._check_open(worker)
        return worker

    def _check_open(self, worker: _Worker | object) -> None:
        if worker is _CLOSED or self._closed:
            self._idle.put(_CLOSED)
            raise StoreError("the query service is shutting down")

    def _dispatch(self, worker: _Worker, request: QueryRequest, deadline: float) -> int:
        """Send the request to `worker` on the newest checkpoint; returns that generation (pinned).

        A worker is not sent a query whose deadline passed while it waited for one: it would be
        killed for a query it never got to run.
        """
        if time.monotonic() >= deadline:
            self._idle.put(worker)
            raise _busy(request, self.size)
        try:
            generation, path = self._checkpoints.acquire()
        except StoreError:
            self._idle.put(worker)
            raise
        try:
            worker.conn.send((generation, path, _encode(request)))
        except OSError as error:
            self._retire(worker, replace=True, extra_generation=generation)
            raise StoreError(_death_message(worker, self._closed)) from error
        return generation

    def _collect(
        self, worker: _Worker, request: QueryRequest, generation: int, answered: bool
    ) -> QueryResponse:
        """The worker's reply, or, when it did not answer in time, its death and QueryTimeout."""
        if not answered:
            self._retire(worker, replace=True, extra_generation=generation)
            logger.warning("query worker %s killed after %g s", worker.process.pid, request.timeout)
            raise QueryTimeout(f"query stopped after {request.timeout:g} s")
        try:
            result = worker.conn.recv()
        except (EOFError, OSError) as error:
            self._retire(worker, replace=True, extra_generation=generation)
            raise StoreError(_death_message(worker, self._closed)) from error
        self._checkpoints.release(worker.generation)
        worker.generation = generation
        self._idle.put(worker)
        if isinstance(result, StoreError):
            raise result
        return result

    def _retire(self, worker: _Worker, *, replace: bool, extra_generation: int | None = None) -> None:
        """Kill a worker, unpin its checkpoints and (unless closing) start its replacement."""
        with self._lock:
            owned = worker in self._workers
            self._workers.discard(worker)
            closed = self._closed
        _kill(worker)
        worker.conn.close()
        if owned:
            self._checkpoints.release(worker.generation)
        if extra_generation is not None:
            self._checkpoints.release(extra_generation)
        if replace and not closed:
            thread = threading.Thread(target=self._replace, daemon=True, name="kg-query-worker-restart")
            with self._lock:
                self._restarts = [t for t in self._restarts if t.is_alive()] + [thread]
            thread.start()


def _kill(worker: _Worker) -> None:
    """SIGKILL and reap: the process is gone, its CPU and memory freed, when this returns."""
    with worker.reaping:
        worker.process.kill()
        worker.process.join()


def _poll(worker: _Worker, deadline: float) -> bool:
    """Whether the worker's reply (or its death) arrived before the deadline."""
    try:
        return worker.conn.poll(max(0.0, deadline - time.monotonic()))
    except (EOFError, OSError):
        return True  # dead: `_collect`'s recv reports it


async def _readable(worker: _Worker, deadline: float) -> bool:
    """`_poll` on the event loop: the pipe's file descriptor is watched by the loop.

    uvloop (libuv) makes a watched descriptor non-blocking and leaves it so; `Connection.recv`
    needs it blocking to read a reply larger than the pipe's buffer, so it is put back.
    """
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = worker.conn.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(True))
    try:
        return await asyncio.wait_for(ready, max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.set_blocking(fd, True)


def _busy(request: QueryRequest, workers: int) -> QueryTimeout:
    return QueryTimeout(f"query stopped after {request.timeout:g} s: all {workers} query workers stayed busy")


def _death_message(worker: _Worker, closed: bool) -> str:
    if closed:
        return "the query service shut down while the query ran"
    code = worker.process.exitcode
    how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
    return f"the query worker died while running the query ({how}); a new one is starting"
