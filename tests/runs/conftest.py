"""Fixtures shared by the runs tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from kg.runs.model import Execution, OutputValue, Run, Status

WORKFLOW = "https://w3id.org/oda-kg/workflow/lightcurve-fc9317d4763d"
CREATED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def recorded_run(run_id: str = "r1", **changes: object) -> Run:
    """A completed lightcurve run with values of every literal type and outputs of every kind;
    `changes` replace its fields."""
    started = CREATED + timedelta(seconds=5)
    execution = Execution(
        status=Status.COMPLETED,
        started_at=started,
        ended_at=started + timedelta(seconds=2.5),
        outputs=[
            OutputValue("comment", "sha256:" + "1" * 64, "json", value="fitted 12 bins"),
            OutputValue("flux", "sha256:" + "2" * 64, "array", value={"dtype": "<f8", "data": [1.5, 2.0]}),
            OutputValue("n_bins", "sha256:" + "3" * 64, "json", value=12),
            OutputValue("lc_file", "sha256:" + "4" * 64, "file", value="lc.fits", file="outputs/lc/lc.fits"),
            OutputValue("model", "sha256:" + "5" * 64, "repr", value="<Model at 0x7f>"),
            OutputValue("big", "sha256:" + "6" * 64, "table", file="outputs/big.json"),
        ],
        environment={"python": "3.11.9", "numpy": "2.2.1"},
        executed_notebook="/srv/runs/r1/lightcurve.ipynb",
        progress={"stage": "done", "progress": 100},
    )
    run = Run(
        id=run_id,
        workflow=WORKFLOW,
        workflow_name="lightcurve",
        notebook="/srv/repo/examples/lightcurve.ipynb",
        content_hash="sha256:" + "a" * 64,
        values={
            "src_name": "Mrk 421",
            "RA": 166.113808,
            "n_bins": 12,
            "use_cache": True,
            "band": None,
            "energies": [0.3, 10.0],
        },
        cache_key="sha256:" + "c" * 64,
        created_at=CREATED,
        commit="642e9c87f10151720977fef6dfe0f15be3a1850f",
        status=Status.COMPLETED,
        objects=("Mrk 421",),
        started_at=started,
        execution=execution,
    )
    return dataclasses.replace(run, **changes)


@pytest.fixture
def make_run() -> Callable[..., Run]:
    """make_run("r2", status=Status.FAILED, ...) -> a `Run` (see `recorded_run`)."""
    return recorded_run
