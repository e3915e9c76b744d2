"""Progress reports picked up from the oda_api callback file while a notebook writes them."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from kg.runs.layout import CONTEXT_FILE
from kg.runs.progress import ProgressWatcher, write_context


def report(stage: str, progress: int) -> dict:
    return {"stage": stage, "progress": progress, "progress_max": 100, "substage": None}


def test_the_context_file_points_at_a_fresh_progress_file(tmp_path):
    (tmp_path / ".oda_api_progress.json").write_text(json.dumps(report("stale", 50)))
    progress_file = write_context(tmp_path)
    assert json.loads((tmp_path / CONTEXT_FILE).read_text()) == {"callback": progress_file.as_uri()}
    assert progress_file.parent == tmp_path.resolve()
    assert not progress_file.exists()


def test_each_new_report_is_handed_on_in_order_and_half_written_ones_are_skipped(tmp_path):
    progress_file = write_context(tmp_path)
    reports = [report("loading", 10), report("fitting", 50), report("done", 100)]
    received: list[dict] = []
    with ProgressWatcher(progress_file, received.append) as watcher:
        for written in reports:
            progress_file.write_text(json.dumps(written)[:20])  # as a reader may see a write under way
            time.sleep(0.15)
            progress_file.write_text(json.dumps(written))
            time.sleep(0.15)
    assert received == reports
    assert watcher.last == reports[-1]


def test_a_report_written_just_before_the_end_is_not_missed(tmp_path):
    progress_file = write_context(tmp_path)
    received: list[dict] = []
    with ProgressWatcher(progress_file, received.append, interval_s=10) as watcher:
        progress_file.write_text(json.dumps(report("done", 100)))
    assert received == [report("done", 100)]
    assert watcher.last == report("done", 100)


def test_a_failing_listener_does_not_stop_the_watching(tmp_path, caplog):
    progress_file = write_context(tmp_path)

    def listener(_: dict) -> None:
        raise OSError("store unreachable")

    with (
        caplog.at_level(logging.ERROR, logger="kg.runs.progress"),
        ProgressWatcher(progress_file, listener) as watcher,
    ):
        progress_file.write_text(json.dumps(report("loading", 10)))
        time.sleep(0.2)
        progress_file.write_text(json.dumps(report("done", 100)))
        time.sleep(0.2)
    assert watcher.last == report("done", 100)
    assert caplog.text.count("progress listener failed") == 2


def test_without_reports_there_is_no_progress(tmp_path: Path):
    with ProgressWatcher(write_context(tmp_path)) as watcher:
        pass
    assert watcher.last is None
