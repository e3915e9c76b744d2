"""The JSON API: the workflows read model (`kg.workflows`, as `kg workflows --json` prints it)
and a health check for monitors. Values from the request reach SPARQL only as bindings."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.errors import ApiError
from api.security import require_read
from api.services import get_services
from kg.namespaces import SPARQL_PROLOGUE
from kg.store import RemoteStore, Store, StoreError
from kg.store.embedded import MEMORY
from kg.workflows import AmbiguousWorkflow, WorkflowNotFound, list_workflows, show_workflow

router = APIRouter(prefix="/api", tags=["JSON API"])

_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
_WORKFLOWS = SPARQL_PROLOGUE + "SELECT (COUNT(DISTINCT ?wf) AS ?n) WHERE { ?wf a oda:Workflow }"


@router.get("/workflows", summary="Every harvested workflow (as `kg workflows --json`)")
async def workflows(request: Request) -> JSONResponse:
    require_read(request)
    return JSONResponse(await run_in_threadpool(list_workflows, get_services(request).store))


@router.get("/workflows/{name:path}", summary="One workflow by name, notebook path or IRI")
async def workflow(request: Request, name: str) -> JSONResponse:
    require_read(request)
    try:
        return JSONResponse(await run_in_threadpool(show_workflow, get_services(request).store, name))
    except WorkflowNotFound as error:
        raise ApiError(404, str(error)) from error
    except AmbiguousWorkflow as error:
        raise ApiError(409, str(error)) from error


@router.get("/health", summary="Whether the store answers, with its size")
async def health(request: Request) -> JSONResponse:
    require_read(request)
    store = get_services(request).store
    try:
        counts = await run_in_threadpool(_counts, store)
    except StoreError as error:
        return JSONResponse({"status": "unavailable", "store": _kind(store), "error": str(error)}, 503)
    return JSONResponse({"status": "ok", "store": _kind(store), **counts})


def _counts(store: Store) -> dict[str, int]:
    """Triples as queries see them (the union default graph)."""
    return {
        "graphs": len(store.named_graphs()),
        "triples": _count(store, _TRIPLES),
        "workflows": _count(store, _WORKFLOWS),
    }


def _count(store: Store, sparql: str) -> int:
    return int(store.select(sparql)[0]["n"].value)


def _kind(store: Store) -> str:
    if isinstance(store, RemoteStore):
        return "remote"
    return "memory" if store.location == MEMORY else "embedded"
