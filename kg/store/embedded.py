"""The embedded store: pyoxigraph in this process, on disk (RocksDB) or in memory.

One process owns an on-disk store (RocksDB holds a lock on the directory); every other
process reaches it over HTTP through `kg serve`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat

from kg.sparql_text import add_using, query_dataset
from kg.store.base import (
    GraphNotFound,
    QueryResult,
    QuerySyntaxError,
    Store,
    StoreError,
    Term,
    drop_graphs_update,
    require_dataset_format,
)
from kg.store.bindings import bind

MEMORY = "memory:"
#: From this many quads on, new graphs go in through the bulk loader: atomic too (it stages SST
#: files and ingests them at commit), 3x faster per quad, but ~45 ms per call (measured here).
BULK_QUADS = 10_000


class EmbeddedStore(Store):
    """A pyoxigraph store at a directory, or in memory when the location is `memory:`."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        self._handle: pyoxigraph.Store | None = _open(self.location)
        # Serialises replace_graphs: its "does the graph exist?" check must not race another replace.
        self._replace_lock = threading.Lock()

    @property
    def _db(self) -> pyoxigraph.Store:
        if self._handle is None:
            raise StoreError(f"{self.location}: the store is closed")
        return self._handle

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
    ) -> QueryResult:
        """Bindings go through `bind`, not pyoxigraph's substitutions, which refuse variables
        the query does not select (e.g. one only used in a FILTER)."""
        with sparql_errors():
            return self._db.query(
                bind(sparql, bindings or {}), **dataset_options(sparql, default_graph, named_graphs)
            )

    def update(
        self, sparql: str, *, using: Sequence[NamedNode] = (), using_named: Sequence[NamedNode] = ()
    ) -> None:
        """pyoxigraph takes no dataset for an update: `using` becomes USING clauses in the text."""
        if using or using_named:
            try:
                sparql = add_using(sparql, using, using_named)
            except ValueError as error:
                raise QuerySyntaxError(str(error)) from error
        with sparql_errors():
            self._db.update(sparql)

    def replace_graphs(self, graphs: Mapping[NamedNode, Sequence[Quad]]) -> None:
        """New graphs go in with one `extend` (or one bulk load when large); existing ones with
        one DROP + INSERT DATA update.

        All three are atomic, so a crash never leaves a half-replaced graph, and the common
        case (harvesting notebooks not seen before) skips SPARQL parsing altogether.
        """
        with self._replace_lock, sparql_errors():
            existing = {graph for graph in graphs if self._db.contains_named_graph(graph)}
            new_quads = [quad for graph, quads in graphs.items() if graph not in existing for quad in quads]
            if len(new_quads) >= BULK_QUADS:
                self._db.bulk_extend(new_quads)
            elif new_quads:
                self._db.extend(new_quads)
            if existing:
                self._db.update(_replace_update({graph: graphs[graph] for graph in existing}))

    def drop_graphs(self, graphs: Iterable[NamedNode]) -> None:
        update = drop_graphs_update(graphs)
        if update:
            with sparql_errors():
                self._db.update(update)

    def named_graphs(self) -> list[NamedNode]:
        with sparql_errors():
            return [graph for graph in self._db.named_graphs() if isinstance(graph, NamedNode)]

    def import_file(self, path: Path, format: RdfFormat, graph: NamedNode | None = None) -> None:
        """Bulk-load a file; on a syntax error nothing is written.

        pyoxigraph 0.5's bulk loader stages the whole file and commits only at the end, so a
        bad line (even past its 1M-quad batches) leaves the store untouched; the tests pin it.
        """
        try:
            self._db.bulk_load(path=path, format=format, to_graph=graph or DefaultGraph())
        except SyntaxError as error:
            raise StoreError(f"{path} is not valid {format.name}, nothing was imported: {error}") from error
        except OSError as error:
            raise StoreError(f"cannot import {path}: {error}") from error

    def export(self, output: BinaryIO, format: RdfFormat) -> None:
        require_dataset_format(format)
        with sparql_errors():
            self._db.dump(output, format)

    def export_graph(self, output: BinaryIO, format: RdfFormat, graph: NamedNode | None = None) -> None:
        with sparql_errors():
            if graph is not None and not self._db.contains_named_graph(graph):
                raise GraphNotFound(f"there is no graph {graph}")
            self._db.dump(output, format, from_graph=graph or DefaultGraph())

    def checkpoint(self, path: Path) -> None:
        """A consistent copy of the store at `path` (RocksDB checkpoint: hard links, milliseconds),
        which another process may open while this one keeps writing."""
        with sparql_errors():
            self._db.backup(path)

    def close(self) -> None:
        """Drop the pyoxigraph store, which releases the RocksDB lock once no result still uses it."""
        self._handle = None


def _open(location: str) -> pyoxigraph.Store:
    if location == MEMORY:
        return pyoxigraph.Store()
    path = Path(location)
    try:
        path.mkdir(parents=True, exist_ok=True)
        return pyoxigraph.Store(path)
    except OSError as error:
        if "lock" in str(error).lower():
            raise StoreError(
                f"{path}: the store is in use by another process; only one process can open it. "
                "Go through that process over HTTP (start it with `kg serve` and point KG_STORE "
                "at its URL), or stop it first."
            ) from error
        raise StoreError(f"{path}: cannot open the store: {error}") from error


def dataset_options(
    sparql: str, default_graph: Sequence[NamedNode] | None, named_graphs: Sequence[NamedNode] | None
) -> dict[str, object]:
    """pyoxigraph's dataset arguments: the graphs named by the caller (the protocol's
    `default-graph-uri`), else the query's own FROM / FROM NAMED (pyoxigraph honours them only
    when not told to use the union), else the union default graph."""
    if not default_graph and not named_graphs:
        return {} if any(query_dataset(sparql)) else {"use_default_graph_as_union": True}
    return {"default_graph": list(default_graph or []), "named_graphs": list(named_graphs or [])}


def _replace_update(graphs: Mapping[NamedNode, Sequence[Quad]]) -> str:
    """DROP then INSERT DATA in one update, built from the terms' escaped N-Triples forms.

    All graphs share one INSERT DATA block: a blank node label may not span two blocks, and
    one block keeps a label shared between graphs one node, as `extend` does.
    """
    blocks = "\n".join(f"GRAPH {graph} {{\n{_ntriples(quads)}}}" for graph, quads in graphs.items() if quads)
    drop = drop_graphs_update(graphs)
    return f"{drop} ;\nINSERT DATA {{\n{blocks}\n}}" if blocks else drop


def _ntriples(quads: Sequence[Quad]) -> str:
    """`str()` of a pyoxigraph triple is its escaped N-Triples form, minus the final dot."""
    return "".join(f"{quad.triple} .\n" for quad in quads)


@contextmanager
def sparql_errors() -> Iterator[None]:
    """pyoxigraph's exceptions as the store's: parse errors keep the parser's line:column."""
    try:
        yield
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from error
    except RuntimeError as error:  # evaluation failures, e.g. CREATE GRAPH on an existing graph
        raise StoreError(str(error)) from error
    except OSError as error:
        raise StoreError(f"store I/O failed: {error}") from error
