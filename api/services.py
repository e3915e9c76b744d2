"""The store, the query runner and the runs one server holds, opened together and closed together.

Queries on an on-disk store run in killable worker processes (`WorkerPool`), because
pyoxigraph cannot cancel a query and a time limit must really stop one. `memory:` stores
cannot be checkpointed for workers and remote stores compute elsewhere, so their queries
run in the request's thread (`InlineRunner`). Writes always go to the store in this
process, the only writer: runs started through the API too, each write followed by
`store_changed` so the next query sees it. Runs a dead server left planned or active are marked
failed when the next one opens the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.requests import Request

from api.background_runs import BackgroundRuns
from api.settings import Settings
from kg.runs.config import RunConfig
from kg.runs.executors import LazyExecutor
from kg.runs.records import mark_dead_runs
from kg.runs.service import RunService
from kg.store import EmbeddedStore, RemoteStore, Store, open_store
from kg.store.embedded import MEMORY
from kg.store.execution import QueryRunner
from kg.store.workers import InlineRunner, WorkerPool

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    runner: QueryRunner
    runs: BackgroundRuns

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """A remote store's HTTP timeout is the query time limit: there, it is the only one.
        The run configuration (`KG_RUNS_DIR`, `KG_RESOURCES`, ...) is read from the environment,
        as `kg run` reads it."""
        if settings.store.startswith(("http://", "https://")):
            store: Store = RemoteStore(settings.store, timeout=settings.query_timeout)
        else:
            store = open_store(settings.store)
        try:
            config = RunConfig.from_env(settings.store)
            for run_id in mark_dead_runs(store):
                logger.warning("run %s was left unfinished by a server that died; marked failed", run_id)
            if isinstance(store, EmbeddedStore) and store.location != MEMORY:
                runner: QueryRunner = WorkerPool(store, workers=settings.workers)
            else:
                runner = InlineRunner(store)
        except BaseException:
            store.close()
            raise
        executor = LazyExecutor(settings.executor, settings.run_jobs)
        runs = BackgroundRuns(RunService(store, config, executor, on_write=runner.store_changed))
        return cls(settings, store, runner, runs)

    def close(self) -> None:
        """Runs first: their last writes need the store and tell the runner."""
        self.runs.close()
        self.runner.close()
        self.store.close()


def get_services(request: Request) -> Services:
    """The services of the app serving `request` (set by `api.app.create_app`)."""
    return request.app.state.services
