"""Error responses: one shape for every failure, JSON or plain text as the client prefers.

SPARQL clients read the text; browsers and scripts that ask for JSON get
`{"error": message, "status": code}` (with more fields where an error has them, such as `problems`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import Request

from api.negotiation import prefers_json


class ApiError(Exception):
    """Raised anywhere in a request to answer with `status` and `message`."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.details = dict(details or {})
        """More fields for the JSON shape (e.g. `problems`); the message must say it all as text."""


def error_response(
    request: Request,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: Mapping[str, object] | None = None,
) -> Response:
    headers = {**(headers or {}), "Vary": "Accept"}
    if prefers_json(request.headers.get("accept")):
        return JSONResponse({"error": message, "status": status, **(details or {})}, status, headers)
    return PlainTextResponse(f"{message}\n", status, headers)


async def handle_api_error(request: Request, error: ApiError) -> Response:
    return error_response(request, error.status, error.message, error.headers, error.details)


async def handle_http_exception(request: Request, error: HTTPException) -> Response:
    """Routing errors (404, 405 with its Allow header) in the same shape as ours."""
    return error_response(request, error.status_code, str(error.detail), error.headers)
