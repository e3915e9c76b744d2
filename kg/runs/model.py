"""What a run is, as the executors, the recorder, the cache, the CLI and the API share it.

Plain dataclasses of JSON-able values: a run crosses process boundaries (the local pool, Dask
workers) and becomes RDF in `harvesters.runs`, so nothing here holds pyoxigraph terms or
open handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A run's lifecycle, written to the graph as it happens (schema:actionStatus)."""

    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class OutputValue:
    """One value a run produced, named as in the notebook's `outputs` cell."""

    name: str
    value_hash: str
    """`sha256:<hex>` of the canonical JSON of the value, or of the file's bytes."""
    kind: str
    """`json`, `array` (numpy), `table` (astropy), `quantity` (astropy), `file` or `repr` (its repr)."""
    value: Any = None
    """The JSON-able value when small (see `outputs.INLINE_LIMIT`), else None."""
    file: str | None = None
    """The copy of a `file`, or a value too large to keep inline, relative to the run's directory."""


@dataclass(frozen=True)
class AstroqueryCall:
    """One astroquery service call made inside a run's kernel, as the tracer recorded it."""

    module: str
    """The service class, e.g. `SimbadClass`, `VizierClass`, `GaiaClass`."""
    method: str
    arguments: str
    """The call's arguments as JSON (`{"args": [...], "kwargs": {...}}`; values not JSON-able as text)."""
    started_at: datetime
    duration_s: float
    outcome: str
    """`ok` or `error`."""
    error: str | None = None
    """`<ExceptionType>: <message>` when the outcome is `error`."""
    objects: tuple[str, ...] = ()
    """Astrophysical object names the call asked for."""
    region: str | None = None
    """The sky region or coordinates the call asked for, as text."""
    cache: bool | None = None
    """Whether astroquery's response cache was on for the call (None when not recorded)."""


@dataclass
class Execution:
    """What executing a notebook did: filled by `kg.runs.execute`, recorded by the recorder."""

    status: Status
    started_at: datetime
    ended_at: datetime
    outputs: list[OutputValue] = field(default_factory=list)
    error: str | None = None
    """The message a user should read: a RuntimeError's text, else `<Type>: <message>`."""
    traceback: str | None = None
    """The traceback (ANSI codes stripped) when the notebook raised anything but RuntimeError."""
    environment: dict[str, str] = field(default_factory=dict)
    """`python` and the versions of the kernel's installed packages."""
    calls: list[AstroqueryCall] = field(default_factory=list)
    executed_notebook: str | None = None
    """Path of the executed notebook (kept in the run's directory)."""
    progress: dict[str, Any] | None = None
    """The last progress report the notebook sent (oda_api ProgressReporter's JSON)."""


@dataclass
class Run:
    """One run of a workflow: planned, then executed, recorded in its own named graph."""

    id: str
    """Short identifier, used in the run's IRI (`kg.iris.run_iri`) and by `kg run show`."""
    workflow: str
    """The workflow's IRI."""
    workflow_name: str
    notebook: str
    """Path of the notebook file executed."""
    content_hash: str
    """The notebook's `kg:contentHash` when it ran."""
    values: dict[str, Any]
    """Every parameter's value by the notebook's own variable name (given ones and defaults)."""
    cache_key: str
    """`sha256:<hex>` of (content hash, canonical values, environment fingerprint)."""
    created_at: datetime
    commit: str | None = None
    status: Status = Status.PLANNED
    objects: tuple[str, ...] = ()
    """Astrophysical objects the run is about from its values (src_name); calls add theirs."""
    started_at: datetime | None = None
    """When it became active: recorded before the execution (whose own times then win) exists."""
    worker: str | None = None
    """`<host>:<pid>:<process start>` (`kg.runs.records.worker_id`) of the process supervising it
    while planned or active (the one that records it), to detect one that died even when its pid
    has been reused."""
    execution: Execution | None = None
    progress: dict[str, Any] | None = None
    """The latest progress report while active."""
    test: bool = False
    """A run made by `kg test-notebooks` (kg:isTestRun): the notebook executed to see that it runs."""
