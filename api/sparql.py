"""The SPARQL 1.1 Protocol: queries and updates at `/sparql`, queries at `/query`, updates at `/update`.

A query is negotiated before it runs (its form is read lexically), then runs through the
QueryRunner under the time and row limits, so the client gets either the whole result in
the format it asked for or an error status, never a truncated 200. Unknown parameters are
ignored: SPARQLWrapper adds `format`, `output` and `results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qsl

from fastapi import FastAPI
from pyoxigraph import NamedNode
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.errors import ApiError, handle_api_error
from api.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, available, negotiate
from api.security import BodyLimit, check_federation, require_read, require_write
from api.service_description import render
from api.services import get_services
from kg.sparql_text import GRAPH_FORMS, query_dataset, query_form, using_conflict
from kg.store.base import QuerySyntaxError, StoreError
from kg.store.execution import QueryRequest, QueryTimeout, RowLimitExceeded

FORM = "application/x-www-form-urlencoded"
BODY_KINDS = {"application/sparql-query": "query", "application/sparql-update": "update"}
#: The dataset parameters of each kind of operation.
DATASET_PARAMETERS = {
    "query": ("default-graph-uri", "named-graph-uri"),
    "update": ("using-graph-uri", "using-named-graph-uri"),
}


@dataclass(frozen=True)
class Endpoint:
    kinds: tuple[str, ...]
    """The operations the path takes: `query`, `update` or both."""
    methods: tuple[str, ...]
    summary: str


ENDPOINTS = {
    "/sparql": Endpoint(
        ("query", "update"),
        ("GET", "HEAD", "POST"),
        "Query or update; without a query, the service description",
    ),
    "/query": Endpoint(("query",), ("GET", "HEAD", "POST"), "Query"),
    "/update": Endpoint(("update",), ("POST",), "Update (needs a write token)"),
}


@dataclass(frozen=True)
class Operation:
    kind: str
    """`query` or `update`."""
    text: str
    graphs: tuple[str, ...]
    """default-graph-uri (query) or using-graph-uri (update) values."""
    named_graphs: tuple[str, ...]
    """named-graph-uri (query) or using-named-graph-uri (update) values."""


class ProtocolEndpoints:
    """ASGI app answering the protocol paths itself and passing every other request to `app`.

    Why not FastAPI routes: a point lookup's own work is well under a millisecond, and the
    layers a FastAPI route goes through (its middleware stack, routing, dependency solving,
    a threadpool hop) measured ~1.5 ms more per request. The protocol reads its parameters
    by hand anyway, so nothing of FastAPI's is lost; the paths are documented in OpenAPI by
    `openapi_paths`. `app` is the FastAPI application whose state holds the services. Other
    exceptions propagate as they would from a route: the server logs them and answers 500
    (and the body limit's BodyTooLarge reaches its middleware).
    """

    def __init__(self, app: FastAPI, max_body: int) -> None:
        self.app = app
        self._answer_limited = BodyLimit(self._answer, max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in ENDPOINTS:
            await self._answer_limited(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = ENDPOINTS[scope["path"]]
        scope["app"] = self.app  # where `get_services` finds the services
        request = Request(scope, receive)
        try:
            if request.method not in endpoint.methods:
                raise ApiError(405, "Method Not Allowed", {"Allow": ", ".join(endpoint.methods)})
            response = await _serve(request, endpoint.kinds)
        except ApiError as error:
            response = await handle_api_error(request, error)
        await response(scope, receive, send)


def openapi_paths() -> dict[str, dict[str, object]]:
    """The protocol paths as OpenAPI operations: their parameters and bodies are read by hand."""
    return {path: _documented(path, endpoint) for path, endpoint in ENDPOINTS.items()}


def _documented(path: str, endpoint: Endpoint) -> dict[str, object]:
    names = [*endpoint.kinds, *(name for kind in endpoint.kinds for name in DATASET_PARAMETERS[kind])]
    parameters = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]
    bodies = {FORM: {"schema": {"type": "object"}}}
    bodies |= {
        media: {"schema": {"type": "string"}} for media, kind in BODY_KINDS.items() if kind in endpoint.kinds
    }
    return {
        method.lower(): {
            "tags": ["SPARQL 1.1 Protocol"],
            "summary": endpoint.summary,
            "operationId": f"sparql_{path.strip('/')}",
            "parameters": parameters,
            **({"requestBody": {"required": False, "content": bodies}} if method == "POST" else {}),
            "responses": {
                "200": {"description": "The result, in the negotiated format"},
                "204": {"description": "The update was applied"},
                "400": {"description": "A syntax error or a malformed request"},
            },
        }
        for method in endpoint.methods
    }


async def _serve(request: Request, kinds: tuple[str, ...]) -> Response:
    if "query" in kinds:
        require_read(request)
    operation = await _read_operation(request)
    if operation is None:
        if request.method == "POST" or "query" not in kinds:
            raise ApiError(400, f"the request carries no {' and no '.join(kinds)}")
        return _service_description(request)
    if operation.kind not in kinds:
        where = "/update" if operation.kind == "update" else "/query or /sparql"
        raise ApiError(400, f"this endpoint takes no {operation.kind}; send it to {where}")
    if operation.kind == "query":
        return await _run_query(request, operation)
    if request.method != "POST":
        raise ApiError(400, "an update must be sent with POST")
    return await _run_update(request, operation)


async def _read_operation(request: Request) -> Operation | None:
    """The query or update a request carries, by the protocol's rules; None when it has neither."""
    params = list(request.query_params.multi_items())
    texts: dict[str, list[str]] = {"query": [], "update": []}
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == FORM:
            params += _form(await request.body())
        elif media in BODY_KINDS:
            texts[BODY_KINDS[media]].append(_utf8(await request.body()))
        else:
            raise ApiError(
                415,
                f"send a query or update as {FORM}, application/sparql-query or application/sparql-update, "
                f"not {media or 'a body without Content-Type'}",
            )
    for name, value in params:
        if name in texts:
            texts[name].append(value)
    given = [(kind, values) for kind, values in texts.items() if values]
    if not given:
        return None
    if len(given) > 1 or len(given[0][1]) > 1:
        raise ApiError(400, "a request carries exactly one query or one update, given once")
    kind, (text,) = given[0]
    graphs, named = (_iris(params, name) for name in DATASET_PARAMETERS[kind])
    other = "update" if kind == "query" else "query"
    misplaced = [name for name in DATASET_PARAMETERS[other] if any(n == name for n, _ in params)]
    if misplaced:
        raise ApiError(400, f"{misplaced[0]} applies to an {other}, not to this {kind}")
    return Operation(kind, text, graphs, named)


async def _run_query(request: Request, operation: Operation) -> Response:
    services = get_services(request)
    settings = services.settings
    check_federation(operation.text, settings.allowed_services)
    form = query_form(operation.text)
    accept = request.headers.get("accept")
    solutions, graph = negotiate(accept, SOLUTION_FORMATS), negotiate(accept, GRAPH_FORMATS)
    if form is not None:
        offers, chosen = (GRAPH_FORMATS, graph) if form in GRAPH_FORMS else (SOLUTION_FORMATS, solutions)
        if chosen is None:
            raise ApiError(406, f"none of the accepted media types fits a {form} result: {available(offers)}")
    # A text that is not a query (form None) fails in the parser, whose message the client gets.
    solutions, graph = solutions or SOLUTION_FORMATS[0], graph or GRAPH_FORMATS[0]
    graphs, named_graphs = operation.graphs, operation.named_graphs
    if not graphs and not named_graphs:
        # Passed explicitly: pyoxigraph's union default graph would otherwise override FROM.
        graphs, named_graphs = query_dataset(operation.text)
    query_request = QueryRequest(
        operation.text,
        solutions_format=solutions.results,
        graph_format=graph.rdf,
        timeout=settings.query_timeout,
        row_limit=settings.row_limit,
        default_graph=graphs or None,
        named_graphs=named_graphs or None,
    )
    try:
        answer = await services.runner.run_async(query_request)
    except QuerySyntaxError as error:
        raise ApiError(400, f"query syntax error: {error}") from error
    except QueryTimeout as error:
        raise ApiError(503, f"the query was stopped at this server's time limit: {error}") from error
    except RowLimitExceeded as error:
        raise ApiError(400, str(error)) from error
    except StoreError as error:
        raise ApiError(500, f"the query failed: {error}") from error
    chosen = graph if answer.kind == "graph" else solutions
    return Response(answer.body, media_type=chosen.media_type, headers={"Vary": "Accept"})


async def _run_update(request: Request, operation: Operation) -> Response:
    """Runs the update atomically on the store; the runner hears of it before the client does."""
    require_write(request)
    services = get_services(request)
    using = [NamedNode(iri) for iri in operation.graphs]
    using_named = [NamedNode(iri) for iri in operation.named_graphs]
    if (using or using_named) and (conflict := using_conflict(operation.text)):
        raise ApiError(
            400, f"using-graph-uri / using-named-graph-uri cannot apply to an update with {conflict}"
        )
    check_federation(operation.text, services.settings.allowed_services)
    update = partial(services.store.update, operation.text, using=using, using_named=using_named)
    try:
        await run_in_threadpool(update)
    except QuerySyntaxError as error:
        raise ApiError(400, f"update syntax error: {error}") from error
    except StoreError as error:
        raise ApiError(500, f"the update failed: {error}") from error
    services.runner.store_changed()
    return Response(status_code=204)


def _service_description(request: Request) -> Response:
    format = negotiate(request.headers.get("accept"), GRAPH_FORMATS)
    if format is None:
        raise ApiError(406, f"the service description comes as {available(GRAPH_FORMATS)}")
    endpoint = str(request.url.replace(query="", fragment=""))
    body = render(endpoint, get_services(request).settings, format)
    return Response(body, media_type=format.media_type, headers={"Vary": "Accept"})


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as error:
        raise ApiError(400, f"the form is not valid URL-encoded UTF-8: {error}") from error


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, f"the body is not UTF-8: {error}") from error


def _iris(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    """The values of parameter `name`, each checked to be an absolute IRI."""
    values = tuple(value for key, value in params if key == name)
    for value in values:
        try:
            NamedNode(value)
        except ValueError as error:
            raise ApiError(400, f"{name}={value!r} is not an absolute IRI: {error}") from error
    return values
