"""The FastAPI application: SPARQL protocol, Graph Store, JSON API and the query UI.

`create_app` opens the store, the query runner and the run service at once, so a store that
cannot be opened (locked by another process, unreachable directory) fails `kg serve` with its
message before anything listens; they are closed when the server shuts down.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

import kg
from api import graph_store, json_api, pages, runs, sparql
from api.errors import ApiError, handle_api_error, handle_http_exception
from api.security import BodyLimit
from api.services import Services
from api.settings import Settings

DESCRIPTION = """A SPARQL 1.1 endpoint over the oda-kg knowledge graph of astronomical workflows.

Queries at `/sparql` or `/query`, updates at `/sparql` or `/update`, graphs at `/store`
(Graph Store HTTP Protocol), workflows and runs as JSON under `/api`. Writes, and starting
runs, need `Authorization: Bearer <token>`.
"""


def create_app(settings: Settings) -> ASGIApp:
    """The whole server: the SPARQL protocol paths in front of the FastAPI application, each
    under the body limit, both behind CORS when it is configured."""
    services = Services.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="oda-kg",
        version=kg.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_route_id,
        docs_url=None,  # served by api.pages with Swagger UI from npm: FastAPI's own page needs a CDN
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.state.services = services
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    for module in (graph_store, json_api, runs, pages):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_body=settings.max_body)  # inside FastAPI's error handling
    server: ASGIApp = sparql.ProtocolEndpoints(app, settings.max_body)
    if settings.cors_origins:
        server = CORSMiddleware(
            server,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Location"],
        )
    return server


def _route_id(route: APIRoute) -> str:
    return re.sub(r"\W", "_", f"{route.name}{route.path_format}")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the SPARQL protocol paths (served outside FastAPI's routes)
    and one operationId per method.

    The Graph Store needs several methods on one route (one route keeps 405's Allow header
    complete), and FastAPI gives all of a route's methods the same id; the method is added here.
    """
    if app.openapi_schema is None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Duplicate Operation ID")
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
        schema["paths"] = sparql.openapi_paths() | schema["paths"]
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                operation["operationId"] = f"{operation['operationId']}_{method}"
        app.openapi_schema = schema
    return app.openapi_schema
