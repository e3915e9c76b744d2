"""The run cache: same notebook code, values and environment give the completed run back."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest

from kg.runs.cache import cache_key, find_cached
from kg.runs.model import Status
from kg.runs.records import list_runs, write_run

NOTEBOOK = "sha256:" + "a" * 64
VALUES = {"src_name": "Mrk 421", "RA": 166.113808, "n_bins": 12, "band": None, "energies": [0.3, 10.0]}
ENVIRONMENT = "sha256:" + "e" * 64


def test_a_key_depends_on_the_values_not_on_their_order() -> None:
    key = cache_key(NOTEBOOK, VALUES, ENVIRONMENT)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", key)
    assert cache_key(NOTEBOOK, dict(reversed(VALUES.items())), ENVIRONMENT) == key


@pytest.mark.parametrize(
    "changed",
    [
        ("sha256:" + "b" * 64, VALUES, ENVIRONMENT),
        (NOTEBOOK, {**VALUES, "RA": 166.2}, ENVIRONMENT),
        (NOTEBOOK, {**VALUES, "n_bins": 12.0}, ENVIRONMENT),
        (NOTEBOOK, {**VALUES, "band": "soft"}, ENVIRONMENT),
        (NOTEBOOK, {k: v for k, v in VALUES.items() if k != "band"}, ENVIRONMENT),
        (NOTEBOOK, VALUES, "sha256:" + "f" * 64),
    ],
    ids=["notebook", "value", "value-type", "none-to-value", "missing-value", "environment"],
)
def test_any_change_of_notebook_values_or_environment_changes_the_key(changed) -> None:
    assert cache_key(*changed) != cache_key(NOTEBOOK, VALUES, ENVIRONMENT)


def test_a_completed_run_with_the_key_is_a_hit(store, make_run) -> None:
    key = cache_key(NOTEBOOK, VALUES, ENVIRONMENT)
    write_run(store, make_run("done", cache_key=key))
    assert find_cached(store, key) == "done"
    assert find_cached(store, cache_key(NOTEBOOK, {**VALUES, "RA": 1.0}, ENVIRONMENT)) is None


def test_failed_planned_and_active_runs_are_never_hits(store, make_run) -> None:
    key = cache_key(NOTEBOOK, VALUES, ENVIRONMENT)
    failed = dataclasses.replace(make_run().execution, status=Status.FAILED, error="RuntimeError: no data")
    write_run(store, make_run("failed", cache_key=key, status=Status.FAILED, execution=failed))
    write_run(store, make_run("planned", cache_key=key, status=Status.PLANNED, execution=None))
    write_run(store, make_run("active", cache_key=key, status=Status.ACTIVE, execution=None))
    assert find_cached(store, key) is None


def test_the_newest_completed_run_is_the_hit(store, make_run) -> None:
    key = cache_key(NOTEBOOK, VALUES, ENVIRONMENT)
    created = make_run().created_at
    write_run(store, make_run("older", cache_key=key))
    write_run(store, make_run("newer", cache_key=key, created_at=created + timedelta(hours=1)))
    assert find_cached(store, key) == "newer"


def test_test_runs_are_never_hits(store, make_run) -> None:
    """`kg test-notebooks` runs beside the notebook's neighbours, which the key does not cover."""
    key = cache_key(NOTEBOOK, VALUES, ENVIRONMENT)
    created = make_run().created_at
    write_run(store, make_run("real", cache_key=key))
    write_run(store, make_run("tested", cache_key=key, test=True, created_at=created + timedelta(hours=1)))
    assert find_cached(store, key) == "real"
    assert {r["id"]: r["cached"] for r in list_runs(store)} == {"real": True, "tested": False}


def test_a_key_with_quotes_cannot_change_the_query(store, make_run) -> None:
    write_run(store, make_run("done"))
    assert find_cached(store, '" || true || "') is None
    assert find_cached(store, '"} UNION { ?run <http://schema.org/identifier> ?id } #') is None
