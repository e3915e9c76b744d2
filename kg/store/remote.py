"""A store behind a SPARQL 1.1 endpoint (query, update, Graph Store protocol) over HTTP.

The server must answer queries against the union of its graphs by default, as the
embedded store does: `oxigraph serve --union-default-graph` (whose union includes the real
default graph), or Fuseki with `tdb2:unionDefaultGraph true` (whose union does not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import httpx
import pyoxigraph
from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QueryTriples,
    RdfFormat,
)

from kg.sparql_text import query_dataset
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

ACCEPT_RESULTS = "application/sparql-results+json, application/n-triples;q=0.9"
_SIBLINGS = ("query", "sparql")
# How servers word a parse error in a 400 body: Oxigraph "error at 1:20", Fuseki "Parse error ... line 1".
_PARSE_ERROR = re.compile(r"\bpars(e|er|ing)\b|\bsyntax\b|error at \d+:\d+|\bline \d+", re.IGNORECASE)


def endpoint_urls(url: str) -> tuple[str, str, str]:
    """Query, update and Graph Store URLs for the Oxigraph layout, from one URL.

    `http://host:7878` gives `.../query`, `.../update`, `.../store`; a URL ending in `/query`
    or `/sparql` is the query URL itself and the other two are its siblings. Servers laid
    out differently (Fuseki's Graph Store is `/<dataset>/data`) take explicit URLs.
    """
    url = url.rstrip("/")
    parent, _, last = url.rpartition("/")
    if last in _SIBLINGS:
        return url, f"{parent}/update", f"{parent}/store"
    return f"{url}/query", f"{url}/update", f"{url}/store"


class RemoteStore(Store):
    """A SPARQL 1.1 endpoint reached with one pooled HTTP client."""

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        store_url: str | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.location = query_url
        derived = endpoint_urls(query_url)
        self.query_url = derived[0]
        self.update_url = update_url or derived[1]
        self.store_url = store_url or derived[2]
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(headers=all_headers, timeout=timeout)

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Term] | None = None,
        *,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
    ) -> QueryResult:
        """POST the query as a form, so dataset parameters travel beside it. A query's own FROM /
        FROM NAMED also travel as parameters: a server in union-default-graph mode (Oxigraph's)
        ignores them in the text, and the embedded store honours them."""
        form: dict[str, str | list[str]] = {"query": bind(sparql, bindings or {})}
        if not default_graph and not named_graphs:
            from_graphs, from_named = query_dataset(sparql)
            default_graph = [NamedNode(iri) for iri in from_graphs]
            named_graphs = [NamedNode(iri) for iri in from_named]
        if default_graph or named_graphs:
            form["default-graph-uri"] = [graph.value for graph in default_graph or []]
            form["named-graph-uri"] = [graph.value for graph in named_graphs or []]
        response = self._send(
            "POST", self.query_url, QuerySyntaxError, data=form, headers={"Accept": ACCEPT_RESULTS}
        )
        return _parse_result(response)

    def update(
        self, sparql: str, *, using: Sequence[NamedNode] = (), using_named: Sequence[NamedNode] = ()
    ) -> None:
        """Dataset parameters travel as protocol parameters: `oxigraph serve --union-default-graph`
        refuses USING in the text."""
        if using or using_named:
            form = {
                "update": sparql,
                "using-graph-uri": [graph.value for graph in using],
                "using-named-graph-uri": [graph.value for graph in using_named],
            }
            self._send("POST", self.update_url, QuerySyntaxError, data=form)
            return
        self._send(
            "POST",
            self.update_url,
            QuerySyntaxError,
            content=sparql.encode(),
            headers={"Content-Type": "application/sparql-update"},
        )

    def replace_graphs(self, graphs: Mapping[NamedNode, Sequence[Quad]]) -> None:
        """One Graph Store PUT per graph, which the server applies atomically."""
        for graph, quads in graphs.items():
            if quads:
                body = pyoxigraph.serialize([q.triple for q in quads], format=RdfFormat.N_TRIPLES)
                self._put_graph(graph, body)
        self.drop_graphs(graph for graph, quads in graphs.items() if not quads)

    def drop_graphs(self, graphs: Iterable[NamedNode]) -> None:
        update = drop_graphs_update(graphs)
        if update:
            self.update(update)

    def named_graphs(self) -> list[NamedNode]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g {} }")
        return [row["g"] for row in rows if isinstance(row["g"], NamedNode)]

    def import_file(self, path: Path, format: RdfFormat, graph: NamedNode | None = None) -> None:
        """POST the file to the Graph Store, streamed; the server refuses a bad file whole."""
        if format.supports_datasets and graph is not None:
            # The Graph Store protocol cannot say "default-graph quads go to `graph`"; do it here.
            self._post_store(_quads_into_graph(path, format, graph), RdfFormat.N_QUADS, {}, path)
            return
        params = {} if format.supports_datasets else {"graph": graph.value} if graph else {"default": ""}
        with path.open("rb") as body:
            self._post_store(body, format, params, path)

    def export(self, output: BinaryIO, format: RdfFormat) -> None:
        """GET the whole dataset as N-Quads (Oxigraph serves it) and re-serialise if asked to."""
        require_dataset_format(format)
        response = self._send("GET", self.store_url, StoreError, headers={"Accept": "application/n-quads"})
        if format == RdfFormat.N_QUADS:
            output.write(response.content)
        else:
            pyoxigraph.serialize(pyoxigraph.parse(response.content, RdfFormat.N_QUADS), output, format)

    def export_graph(self, output: BinaryIO, format: RdfFormat, graph: NamedNode | None = None) -> None:
        """Asks first whether the graph exists: servers word a missing graph differently."""
        if graph is not None and not self.ask("ASK { GRAPH ?g {} }", {"g": graph}):
            raise GraphNotFound(f"there is no graph {graph}")
        params = {"graph": graph.value} if graph is not None else {"default": ""}
        headers = {"Accept": format.media_type}
        output.write(self._send("GET", self.store_url, StoreError, params=params, headers=headers).content)

    def close(self) -> None:
        self._client.close()

    def _put_graph(self, graph: NamedNode, body: bytes) -> None:
        self._send(
            "PUT",
            self.store_url,
            StoreError,
            params={"graph": graph.value},
            content=body,
            headers={"Content-Type": "application/n-triples"},
        )

    def _post_store(
        self, body: bytes | BinaryIO, format: RdfFormat, params: Mapping[str, str], path: Path
    ) -> None:
        try:
            headers = {"Content-Type": format.media_type}
            self._send("POST", self.store_url, StoreError, params=params, content=body, headers=headers)
        except StoreError as error:
            raise StoreError(f"cannot import {path}: {error}") from error

    def _send(
        self, method: str, url: str, syntax_error: type[StoreError], **request: object
    ) -> httpx.Response:
        """One request; a parse error reported as HTTP 400 becomes `syntax_error`."""
        try:
            response = self._client.request(method, url, **request)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            raise StoreError(f"{method} {url}: cannot reach the store: {error}") from error
        if response.is_success:
            return response
        message = response.text.strip()
        if response.status_code == 400 and _PARSE_ERROR.search(message):
            raise syntax_error(f"{url}: {message}")
        raise StoreError(f"{method} {url} answered HTTP {response.status_code}: {message[:1000]}")


def _parse_result(response: httpx.Response) -> QueryResult:
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    try:
        if results_format := QueryResultsFormat.from_media_type(media_type):
            return pyoxigraph.parse_query_results(response.content, results_format)
        if rdf_format := RdfFormat.from_media_type(media_type):
            return _query_triples(response.content, rdf_format)
    except SyntaxError as error:
        raise StoreError(f"{response.url} sent an unreadable {media_type} answer: {error}") from error
    raise StoreError(f"{response.url} answered with unexpected content type {media_type!r}")


def _query_triples(data: bytes, format: RdfFormat) -> QueryTriples:
    """A graph answer as a real `QueryTriples` (it has no Python constructor), with its `serialize`.

    pyoxigraph only makes one from a query, so the triples go through a throwaway in-memory store.
    """
    scratch = pyoxigraph.Store()
    scratch.load(data, format)
    return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True)  # type: ignore[return-value]


def _quads_into_graph(path: Path, format: RdfFormat, graph: NamedNode) -> bytes:
    """The file as N-Quads with its default-graph triples moved into `graph`."""
    quads = (
        Quad(quad.subject, quad.predicate, quad.object, graph) if quad.graph_name == DefaultGraph() else quad
        for quad in pyoxigraph.parse(path=path, format=format)
    )
    try:
        return pyoxigraph.serialize(quads, format=RdfFormat.N_QUADS)  # type: ignore[return-value]
    except SyntaxError as error:
        raise StoreError(f"{path} is not valid {format.name}, nothing was imported: {error}") from error
