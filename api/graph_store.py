"""The SPARQL 1.1 Graph Store HTTP Protocol at `/store`.

A graph is named indirectly (`/store?graph=IRI`, `/store?default`) or directly (any URL under
`/store/`, which is itself the graph's IRI). `?default` is the store's own default graph, not
the union that queries see, as in Oxigraph. Writes go through the `Store` interface as single
atomic operations, then tell the query runner the store changed before answering.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from fastapi import APIRouter
from fastapi.responses import Response
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Triple, parse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from api.errors import ApiError
from api.negotiation import DATASET_FORMATS, GRAPH_FORMATS, available, negotiate
from api.security import require_read, require_write
from api.services import Services, get_services
from kg.formats import Format, rdf_format_for_path
from kg.store.base import GraphNotFound, Store, StoreError

router = APIRouter(tags=["Graph Store HTTP Protocol"])

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
#: Body formats whose quads keep their own graphs when POSTed to `/store` itself.
NAMES_GRAPHS = (RdfFormat.TRIG, RdfFormat.N_QUADS)
_EXISTS = "ASK { GRAPH ?g {} }"


@dataclass(frozen=True)
class Target:
    graph: NamedNode | None
    """None: the store's default graph."""

    def __str__(self) -> str:
        return f"graph {self.graph}" if self.graph else "the default graph"


@router.api_route(
    "/store", methods=METHODS, summary="A graph named by ?graph=IRI or ?default, or the dataset"
)
async def indirect(request: Request) -> Response:
    graphs = request.query_params.getlist("graph")
    if len(graphs) > 1 or (graphs and "default" in request.query_params):
        raise ApiError(400, "name one graph: ?graph=IRI or ?default")
    if graphs:
        return await _graph(request, Target(_iri(graphs[0])))
    if "default" in request.query_params:
        return await _graph(request, Target(None))
    return await _dataset(request)


@router.api_route("/store/{path:path}", methods=METHODS, summary="The graph whose IRI is this URL")
async def direct(request: Request) -> Response:
    """The IRI is the URL as sent, its percent-encoding untouched."""
    if "graph" in request.query_params or "default" in request.query_params:
        raise ApiError(400, "a graph named by its URL takes no ?graph or ?default")
    path = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    return await _graph(request, Target(_iri(f"{request.url.scheme}://{request.url.netloc}{path}")))


async def _graph(request: Request, target: Target) -> Response:
    services = get_services(request)
    if request.method in ("GET", "HEAD"):
        require_read(request)
        format = _accepted(request, GRAPH_FORMATS)
        try:
            body = await run_in_threadpool(_export_graph, services.store, target, format)
        except GraphNotFound as error:
            raise ApiError(404, f"there is no {target}") from error
        return Response(body, media_type=format.media_type, headers={"Vary": "Accept"})
    require_write(request)
    if request.method == "DELETE":
        return await _write(services, _delete, target)
    base = target.graph.value if target.graph else str(request.url.replace(query=""))
    quads = await _body(request, base)
    if any(quad.graph_name != DefaultGraph() for quad in quads):
        raise ApiError(400, f"the body names graphs; send the triples of {target} alone")
    write = _put if request.method == "PUT" else _post
    return await _write(services, write, target, [quad.triple for quad in quads])


async def _dataset(request: Request) -> Response:
    """`/store` itself: GET the whole dataset; POST a dataset, or a graph that gets a new IRI."""
    services = get_services(request)
    if request.method in ("GET", "HEAD"):
        require_read(request)
        format = _accepted(request, DATASET_FORMATS)
        body = await run_in_threadpool(_export, services.store, format)
        return Response(body, media_type=format.media_type, headers={"Vary": "Accept"})
    require_write(request)
    if request.method != "POST":
        raise ApiError(400, f"{request.method} needs a graph: /store?graph=IRI, /store?default or /store/...")
    new = f"{str(request.base_url).rstrip('/')}/store/{uuid.uuid4().hex}"
    quads = await _body(request, new)
    if _names_graphs(request):
        return await _write(services, _add_to_dataset, quads)
    if any(quad.graph_name != DefaultGraph() for quad in quads):
        raise ApiError(400, "the body names graphs: POST it as TriG or N-Quads to add it to the dataset")
    response = await _write(services, _put, Target(NamedNode(new)), [quad.triple for quad in quads])
    response.headers["Location"] = new
    return response


async def _write(services: Services, write: Callable[..., int], *args: object) -> Response:
    """Run one write in a thread; the runner hears of it before the client gets the answer."""
    try:
        status = await run_in_threadpool(write, services.store, *args)
    except GraphNotFound as error:
        raise ApiError(404, str(error)) from error
    except StoreError as error:
        raise ApiError(500, f"the write failed: {error}") from error
    await run_in_threadpool(services.runner.store_changed)
    return Response(status_code=status)


def _put(store: Store, target: Target, triples: Sequence[Triple]) -> int:
    """Replace the graph: 201 when it is new, 204 when it existed."""
    if target.graph is None:
        store.update(f"DROP SILENT DEFAULT ;\n{insert_data(_into(target, triples))}")
        return 204
    existed = store.ask(_EXISTS, {"g": target.graph})
    if triples:
        store.replace_graphs({target.graph: _into(target, triples)})
    else:
        store.update(f"DROP SILENT GRAPH {target.graph} ;\nCREATE SILENT GRAPH {target.graph}")
    return 204 if existed else 201


def _post(store: Store, target: Target, triples: Sequence[Triple]) -> int:
    """Add to the graph: 201 when it is new, 204 when it existed."""
    existed = target.graph is None or store.ask(_EXISTS, {"g": target.graph})
    if triples:
        store.update(insert_data(_into(target, triples)))
    elif not existed:
        store.update(f"CREATE SILENT GRAPH {target.graph}")
    return 204 if existed else 201


def _add_to_dataset(store: Store, quads: Sequence[Quad]) -> int:
    store.update(insert_data(quads))
    return 204


def _delete(store: Store, target: Target) -> int:
    if target.graph is None:
        store.update("DROP SILENT DEFAULT")
    elif store.ask(_EXISTS, {"g": target.graph}):
        store.drop_graphs([target.graph])
    else:
        raise GraphNotFound(f"there is no {target}")
    return 204


def insert_data(quads: Sequence[Quad]) -> str:
    """One INSERT DATA for `quads`, each term written by pyoxigraph (escaped), grouped by graph;
    an update that does nothing when there are none."""
    by_graph: dict[NamedNode | DefaultGraph, list[str]] = defaultdict(list)
    for quad in quads:
        by_graph[quad.graph_name].append(f"{quad.triple} .")
    blocks = [
        "\n".join(lines) if graph == DefaultGraph() else f"GRAPH {graph} {{\n" + "\n".join(lines) + "\n}"
        for graph, lines in by_graph.items()
    ]
    return "INSERT DATA {\n" + "\n".join(blocks) + "\n}"


def _into(target: Target, triples: Sequence[Triple]) -> list[Quad]:
    graph = target.graph or DefaultGraph()
    return [Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def _export_graph(store: Store, target: Target, format: Format) -> bytes:
    buffer = BytesIO()
    store.export_graph(buffer, format.rdf, target.graph)
    return buffer.getvalue()


def _export(store: Store, format: Format) -> bytes:
    buffer = BytesIO()
    store.export(buffer, format.rdf)
    return buffer.getvalue()


async def _body(request: Request, base: str) -> list[Quad]:
    """The quads of the body, or of every file part of a multipart/form-data body."""
    media = _media_type(request)
    if media != "multipart/form-data":
        return await run_in_threadpool(_parse, await request.body(), _body_format(media), base)
    quads: list[Quad] = []
    async with request.form() as form:
        parts = [part for _, part in form.multi_items() if isinstance(part, UploadFile)]
        if not parts:
            raise ApiError(400, "the multipart body has no file part")
        for part in parts:
            format = _body_format(part.content_type or "", part.filename)
            quads += await run_in_threadpool(_parse, await part.read(), format, base)
    return quads


def _parse(data: bytes, format: Format, base: str) -> list[Quad]:
    try:
        return list(parse(data, format=format.rdf, base_iri=base))
    except SyntaxError as error:
        raise ApiError(400, f"the body is not valid {format.rdf.name}: {error}") from error


def _body_format(media: str, filename: str | None = None) -> Format:
    """The RDF format of a body by its media type, else (a multipart file) by its file name."""
    media = media.split(";")[0].strip().lower()
    for format in GRAPH_FORMATS:
        if media in format.media_types:
            return format
    if filename:
        try:
            return rdf_format_for_path(filename)
        except ValueError:
            pass
    raise ApiError(415, f"send RDF as one of {available(GRAPH_FORMATS)}, not {media or 'an untyped body'}")


def _names_graphs(request: Request) -> bool:
    media = _media_type(request)
    return any(f.rdf in NAMES_GRAPHS and media in f.media_types for f in GRAPH_FORMATS)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _accepted(request: Request, offers: Sequence[Format]) -> Format:
    format = negotiate(request.headers.get("accept"), offers)
    if format is None:
        raise ApiError(406, f"this comes as {available(offers)}")
    return format


def _iri(value: str) -> NamedNode:
    try:
        return NamedNode(value)
    except ValueError as error:
        raise ApiError(400, f"{value!r} is not an absolute IRI: {error}") from error
