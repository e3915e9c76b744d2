"""Runs started through the API, executing in the background of the server that holds the store.

A request plans and starts a run and answers at once; a thread per started run then follows it
with `RunService.wait`, so each lifecycle step and progress report is written as it comes (the
server is the store's only writer). At shutdown the executor is closed first: it lets running
jobs finish and cancels queued ones, so every thread records its run's outcome (a cancelled
run as failed) and ends before the store closes.
"""

from __future__ import annotations

import logging
import threading

from kg.runs.planning import Plan
from kg.runs.records import show_run
from kg.runs.service import RunService, Tracked

logger = logging.getLogger(__name__)

#: Longest the shutdown waits for one thread once the executor is closed (its last write).
JOIN_TIMEOUT_S = 30.0


class BackgroundRuns:
    def __init__(self, service: RunService) -> None:
        self.service = service
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, plan: Plan, *, force: bool = False) -> dict[str, object]:
        """The run's record as started (planned), or the cached run's (`"cached": true`); a started
        run goes on executing once this returns. Read before following, so it is the planned record."""
        tracked = self.service.start(plan, force=force)
        record = {**show_run(self.service.store, tracked.run.id), "cached": tracked.cached}
        if not tracked.finished:
            self._follow(tracked)
        return record

    def close(self) -> None:
        """Let running jobs finish (their outcomes recorded), fail queued ones, stop the threads."""
        self.service.executor.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)

    def _follow(self, tracked: Tracked) -> None:
        thread = threading.Thread(
            target=self._wait, args=(tracked,), name=f"run {tracked.run.id}", daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _wait(self, tracked: Tracked) -> None:
        try:
            self.service.wait([tracked])
        except Exception:  # a store write failed: the run stays as last written, marked dead at restart
            logger.exception("run %s: recording its progress failed", tracked.run.id)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
