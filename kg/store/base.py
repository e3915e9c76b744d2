"""The store interface every backend implements.

Callers (harvesters' writers, the CLI, the API) only ever see this class, so the embedded
pyoxigraph store and a remote SPARQL 1.1 store are interchangeable by configuration.
Results are pyoxigraph's own result objects whichever backend produced them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, Self

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Triple,
)

Term = NamedNode | BlankNode | Literal
QueryResult = QuerySolutions | QueryBoolean | QueryTriples


class StoreError(Exception):
    """A store operation failed; the message names the operation and the cause."""


class QuerySyntaxError(StoreError):
    """The SPARQL text does not parse; the message carries the parser's position."""


class GraphNotFound(StoreError):
    """A named graph that the store does not hold."""


class Store(ABC):
    """A quad store whose SPARQL default graph is the union of all its graphs."""

    #: How the user named this store (a directory, `memory:` or an endpoint URL).
    location: str

    @abstractmethod
    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query; `bindings` give variables values without touching the text.

        Any variable of the WHERE group can be bound, selected or not (see `kg.store.bindings`).
        Without `default_graph`/`named_graphs` the default graph is the union of all graphs
        (the real default graph included); with either, the dataset is exactly what is named,
        as in the SPARQL protocol (the side not named is empty).
        """

    @abstractmethod
    def update(
        self, sparql: str, *, using: Sequence[NamedNode] = (), using_named: Sequence[NamedNode] = ()
    ) -> None:
        """Run a SPARQL update atomically.

        `using` / `using_named` are the protocol's using-graph-uri / using-named-graph-uri: the
        dataset of the update's WHERE clauses (the text must then have no USING, WITH or DELETE WHERE).
        """

    @abstractmethod
    def replace_graphs(self, graphs: Mapping[NamedNode, Sequence[Quad]]) -> None:
        """Make each named graph hold exactly the given quads (each naming that graph); each graph
        is replaced atomically.

        Quads, not triples, so that the embedded store hands them to pyoxigraph untouched: a
        harvest writes hundreds of thousands. `in_graph` places triples. Graphs not mentioned are
        left alone; an empty sequence removes the graph.
        """

    @abstractmethod
    def drop_graphs(self, graphs: Iterable[NamedNode]) -> None:
        """Remove named graphs and their triples (missing graphs are ignored)."""

    @abstractmethod
    def named_graphs(self) -> list[NamedNode]:
        """Every named graph in the store."""

    @abstractmethod
    def import_file(self, path: Path, format: RdfFormat, graph: NamedNode | None = None) -> None:
        """Load an RDF file; triples go to `graph` (default graph when None), quads keep theirs."""

    @abstractmethod
    def export(self, output: BinaryIO, format: RdfFormat) -> None:
        """Write the whole dataset; `format` must carry named graphs (TriG, N-Quads, JSON-LD)."""

    @abstractmethod
    def export_graph(self, output: BinaryIO, format: RdfFormat, graph: NamedNode | None = None) -> None:
        """Write one graph's triples: `graph`, or the default graph itself (not the union) when None.

        GraphNotFound when the named graph does not exist. The Graph Store protocol reads this way.
        """

    def select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> list[dict[str, Term]]:
        """A SELECT query's rows as dictionaries of the bound variables."""
        result = self.query(sparql, bindings)
        if not isinstance(result, QuerySolutions):
            raise StoreError("select() needs a SELECT query")
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    def ask(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> bool:
        """An ASK query's answer."""
        result = self.query(sparql, bindings)
        if not isinstance(result, QueryBoolean):
            raise StoreError("ask() needs an ASK query")
        return bool(result)

    @abstractmethod
    def close(self) -> None:
        """Release the store (the embedded store's lock, the remote store's connections)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_graph(graph: NamedNode, triples: Iterable[Triple]) -> list[Quad]:
    """The quads that put `triples` into `graph`, for `Store.replace_graphs`."""
    return [Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def drop_graphs_update(graphs: Iterable[NamedNode]) -> str:
    """One SPARQL Update dropping `graphs`, so a multi-graph drop is a single atomic request."""
    return " ;\n".join(f"DROP SILENT GRAPH {graph}" for graph in graphs)


def require_dataset_format(format: RdfFormat) -> None:
    """Refuse a triples-only format for a whole-store export, which would lose the graph names."""
    if not format.supports_datasets:
        raise ValueError(
            f"{format.name} cannot hold named graphs; export the store as TriG, N-Quads or JSON-LD"
        )
