"""Progress reports from inside a running notebook, the way MMODA receives them.

oda_api's `ProgressReporter` (and notebooks that imitate it, like `examples/lightcurve.ipynb`) reads the
callback URL from `.oda_api_context` in its working directory; for a `file://` callback it overwrites that
file with the JSON of each report. A thread polls the file and hands each new report on while the kernel
runs, so a run's progress can be shown live without touching the notebook.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from kg.runs.layout import CONTEXT_FILE, PROGRESS_FILE

POLL_INTERVAL_S = 0.05

log = logging.getLogger(__name__)


def write_context(run_dir: Path) -> Path:
    """Point the notebook's progress reports at a file in `run_dir`; return that file's path.

    A report left by an earlier execution in the same directory is removed, so it cannot pass for new.
    """
    progress_file = (run_dir / PROGRESS_FILE).resolve()
    progress_file.unlink(missing_ok=True)
    (run_dir / CONTEXT_FILE).write_text(json.dumps({"callback": progress_file.as_uri()}))
    return progress_file


def read_report(progress_file: Path) -> dict[str, Any] | None:
    """The report in the file, or None when there is none yet or the writer is half-way through."""
    try:
        report = json.loads(progress_file.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


class ProgressWatcher:
    """Polls a progress file in a thread; `on_progress` gets each report that differs from the last.

    Used as a context manager around the execution. Leaving it stops the thread and reads the file once
    more, so a report written just before the end is not missed; `last` then holds the final report.
    """

    def __init__(
        self,
        progress_file: Path,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.progress_file = progress_file
        self.on_progress = on_progress
        self.interval_s = interval_s
        self.last: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"progress:{progress_file}", daemon=True)

    def __enter__(self) -> ProgressWatcher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._poll()

    def _poll(self) -> None:
        report = read_report(self.progress_file)
        if report is None or report == self.last:
            return
        self.last = report
        if self.on_progress is None:
            return
        try:
            self.on_progress(report)
        except Exception:  # a failing listener must not stop the run it watches
            log.exception("progress listener failed on report %s", report)
