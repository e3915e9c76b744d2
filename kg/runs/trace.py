"""The parent side of astroquery tracing: what a kernel needs in its environment to record its
calls (`kg.runs.tracer`), and reading what it recorded."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from pathlib import Path

from kg.runs.model import AstroqueryCall
from kg.runs.tracer import TIMEOUT_ENV, TRACE_FILE_ENV

KERNEL_SITE = Path(__file__).parent / "kernel_site"


def tracing_environment(trace_file: Path, *, timeout_s: float) -> dict[str, str]:
    """Variables to add to a kernel's environment so it appends its astroquery calls to
    `trace_file` and gives up on a silent server after `timeout_s` seconds."""
    if not timeout_s > 0:
        raise ValueError(f"the astroquery timeout must be a positive number of seconds, got {timeout_s!r}")
    existing = os.environ.get("PYTHONPATH")
    return {
        "PYTHONPATH": os.pathsep.join([str(KERNEL_SITE), *([existing] if existing else [])]),
        TRACE_FILE_ENV: str(trace_file.resolve()),
        TIMEOUT_ENV: repr(float(timeout_s)),
    }


def read_trace(path: Path) -> list[AstroqueryCall]:
    """The calls a kernel recorded, in order; none when it made none (no file). A last line
    cut short by a kernel that died while writing it is left out; any other bad line is an error."""
    if not path.exists():
        return []
    *lines, unterminated = path.read_text(encoding="utf-8").split("\n")
    calls = [_parse(path, number, line) for number, line in enumerate(lines, start=1)]
    with contextlib.suppress(json.JSONDecodeError):
        calls += [_call(json.loads(unterminated))] if unterminated else []
    return calls


def _parse(path: Path, number: int, line: str) -> AstroqueryCall:
    try:
        return _call(json.loads(line))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}:{number}: not an astroquery call record: {error!r}") from error


def _call(record: dict) -> AstroqueryCall:
    return AstroqueryCall(
        module=record["module"],
        method=record["method"],
        arguments=json.dumps(record["arguments"], ensure_ascii=False),
        started_at=datetime.fromisoformat(record["started_at"]),
        duration_s=float(record["duration_s"]),
        outcome=record["outcome"],
        error=record["error"],
        objects=tuple(record["objects"]),
        region=record["region"],
        cache=record["cache"],
    )
