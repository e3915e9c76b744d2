"""The runs JSON API: start a workflow's run (write token), list runs, read one run's record.

Values are checked exactly as `kg run` checks them (`kg.runs.planning.plan_run`) before anything
executes; the run then goes on in the server's background (`api.background_runs`). Only
harvested workflows run: a notebook path on the server's disk is looked up, never harvested
(the API does not parse notebooks). Values from the request reach SPARQL only as bindings.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.errors import ApiError
from api.security import require_read, require_write
from api.services import Services, get_services
from kg.runs.planning import plan_run
from kg.runs.records import RunNotFound, list_runs, show_run
from kg.runs.values import InvalidValues
from kg.workflows import AmbiguousWorkflow, WorkflowNotFound

router = APIRouter(prefix="/api", tags=["JSON API"])

_FIELDS = {"workflow", "values", "force"}
_EXAMPLE = '{"workflow": "lightcurve", "values": {"nbins": 30}, "force": false}'
_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["workflow"],
                "additionalProperties": False,
                "properties": {
                    "workflow": {
                        "type": "string",
                        "description": "The workflow's name, notebook path or IRI.",
                    },
                    "values": {
                        "type": "object",
                        "description": "Parameter values by the notebook's names or RA, DEC, T1, T2, "
                        "src_name; the others take their defaults.",
                    },
                    "force": {
                        "type": "boolean",
                        "default": False,
                        "description": "Run even when an identical completed run is cached.",
                    },
                },
            },
            "example": json.loads(_EXAMPLE),
        }
    },
}
_START_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An identical completed run answers (`cached` is true); nothing runs."},
    202: {"description": "The run is planned and executes in the background; `Location` is its record."},
    400: {
        "description": "The body or the values are wrong (`problems` lists each), or a resource is missing."
    },
    401: {"description": "No bearer token."},
    403: {"description": "The token is not a write token, or the server takes no writes."},
    404: {"description": "No workflow has that name, path or IRI."},
    409: {"description": "Several workflows have that name: give the notebook path or IRI."},
}


@router.post(
    "/runs",
    summary="Start a run of a workflow (write token; as `kg run`)",
    status_code=202,
    responses=_START_RESPONSES,
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def start_run(request: Request) -> JSONResponse:
    require_write(request)
    workflow, values, force = _run_request(await request.body())
    services = get_services(request)
    record = await run_in_threadpool(_start, services, workflow, values, force)
    if record["cached"]:
        return JSONResponse(record)
    return JSONResponse(record, 202, {"Location": f"/api/runs/{quote(str(record['id']), safe='')}"})


@router.get("/runs", summary="Every run, newest first (as `kg runs --json`)")
async def runs(
    request: Request,
    workflow: str | None = Query(None, description="Only the runs of this workflow (name or IRI)."),
) -> JSONResponse:
    require_read(request)
    return JSONResponse(await run_in_threadpool(list_runs, get_services(request).store, workflow))


@router.get(
    "/runs/{run_id}",
    summary="One run's record: status, progress, values, outputs, error (as `kg run show --json`)",
    responses={404: {"description": "No run has that id."}},
)
async def run(request: Request, run_id: str) -> JSONResponse:
    require_read(request)
    try:
        return JSONResponse(await run_in_threadpool(show_run, get_services(request).store, run_id))
    except RunNotFound as error:
        raise ApiError(404, f"no run {run_id!r}; GET /api/runs lists them") from error


def _run_request(body: bytes) -> tuple[str, dict[str, object], bool]:
    """The workflow, values and force flag of a start request; 400 naming what is wrong."""
    try:
        given = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"the body must be JSON like {_EXAMPLE}: {error}") from error
    if not isinstance(given, dict):
        raise ApiError(400, f"the body must be a JSON object like {_EXAMPLE}")
    problems = [f"unknown field {name!r}" for name in sorted(set(given) - _FIELDS)]
    workflow, values, force = given.get("workflow"), given.get("values", {}), given.get("force", False)
    if not isinstance(workflow, str) or not workflow.strip():
        problems.append('"workflow" must be a workflow\'s name, notebook path or IRI')
    if not isinstance(values, dict):
        problems.append('"values" must be an object of parameter name -> value')
    if not isinstance(force, bool):
        problems.append('"force" must be true or false')
    if problems:
        raise ApiError(
            400, "the run request is not valid: " + "; ".join(problems), details={"problems": problems}
        )
    return workflow, values, force  # type: ignore[return-value]


def _start(services: Services, key: str, values: dict[str, object], force: bool) -> dict[str, object]:
    """Plan (refusals as ApiError) and start the run of the workflow `key` names."""
    runs = services.runs
    try:
        plan = plan_run(services.store, key, values, runs.service.config)
    except WorkflowNotFound as error:
        raise ApiError(404, str(error)) from error
    except AmbiguousWorkflow as error:
        raise ApiError(409, str(error)) from error
    except InvalidValues as error:
        raise ApiError(400, str(error), details={"problems": error.problems}) from error
    except ValueError as error:  # the notebook changed since harvest, a missing resource, ...
        raise ApiError(400, str(error), details={"problems": [str(error)]}) from error
    return runs.start(plan, force=force)
