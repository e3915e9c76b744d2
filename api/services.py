"""The store and the query runner one server holds, opened together and closed together.

Queries on an on-disk store run in killable worker processes (`WorkerPool`), because
pyoxigraph cannot cancel a query and a time limit must really stop one. `memory:` stores
cannot be checkpointed for workers and remote stores compute elsewhere, so their queries
run in the request's thread (`InlineRunner`). Writes always go to the store in this
process, the only writer.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from api.settings import Settings
from kg.store import EmbeddedStore, RemoteStore, Store, open_store
from kg.store.embedded import MEMORY
from kg.store.execution import QueryRunner
from kg.store.workers import InlineRunner, WorkerPool


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    runner: QueryRunner

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """A remote store's HTTP timeout is the query time limit: there, it is the only one."""
        if settings.store.startswith(("http://", "https://")):
            store: Store = RemoteStore(settings.store, timeout=settings.query_timeout)
        else:
            store = open_store(settings.store)
        try:
            if isinstance(store, EmbeddedStore) and store.location != MEMORY:
                runner: QueryRunner = WorkerPool(store, workers=settings.workers)
            else:
                runner = InlineRunner(store)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, runner)

    def close(self) -> None:
        self.runner.close()
        self.store.close()


def get_services(request: Request) -> Services:
    """The services of the app serving `request` (set by `api.app.create_app`)."""
    return request.app.state.services
