"""The contract between the HTTP layer and whatever runs queries under a time limit.

The API negotiates the output format before a query runs, so a runner returns the final
bytes: results serialised where they were computed, which is what crosses a process
boundary when queries run in killable worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pyoxigraph import QueryResultsFormat, RdfFormat

from kg.store.base import StoreError


class QueryTimeout(StoreError):
    """The query ran past its time limit and was stopped (its work really ended)."""


class RowLimitExceeded(StoreError):
    """The result has more rows (or triples) than the configured limit; nothing partial is sent."""


@dataclass(frozen=True)
class QueryRequest:
    sparql: str
    solutions_format: QueryResultsFormat
    """How to serialise SELECT and ASK results."""
    graph_format: RdfFormat
    """How to serialise CONSTRUCT and DESCRIBE results."""
    timeout: float
    """Seconds before the query is stopped."""
    row_limit: int
    """Most solutions or triples a result may have."""
    default_graph: tuple[str, ...] | None = None
    """IRIs of the graphs whose union is the default graph (protocol `default-graph-uri`)."""
    named_graphs: tuple[str, ...] | None = None
    """IRIs of the graphs `GRAPH` may see (protocol `named-graph-uri`)."""


@dataclass(frozen=True)
class QueryResponse:
    body: bytes
    kind: str
    """`solutions`, `boolean` or `graph`: tells which of the request's formats `body` is in."""


class QueryRunner(Protocol):
    """Runs read queries; raises QuerySyntaxError, QueryTimeout, RowLimitExceeded or StoreError."""

    def run(self, request: QueryRequest) -> QueryResponse: ...

    async def run_async(self, request: QueryRequest) -> QueryResponse:
        """`run` for callers on an event loop, which it must not block."""
        ...

    def store_changed(self) -> None:
        """Called after every write, before the write is acknowledged: later queries see it."""

    def close(self) -> None: ...
