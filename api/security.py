"""Who may read and write, what a query may reach, and how much a request may send.

Writes are closed unless tokens are configured: a server started without thought must
never be an open SPARQL Update endpoint. Tokens are compared in constant time. SERVICE
(and LOAD) make the store fetch URLs chosen by the client, so they are refused unless
their target is on the operator's allow-list: pyoxigraph's federation cannot be switched off.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_response
from api.services import get_services
from kg.sparql_text import remote_targets

WRITE_TOKENS_HELP = (
    "set KG_WRITE_TOKENS=<token>[,<token>...] in the server's environment, restart it, "
    "and send Authorization: Bearer <token>"
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="oda-kg"'}


def require_write(request: Request) -> None:
    """403 when the server takes no writes at all, 401 without a token, 403 with a wrong one."""
    settings = get_services(request).settings
    if not settings.write_tokens:
        raise ApiError(403, f"writes are disabled on this server: {WRITE_TOKENS_HELP}")
    _require_token(request, settings.write_tokens, "writing")


def require_read(request: Request) -> None:
    """Reads are public unless read tokens are configured; a write token also reads."""
    settings = get_services(request).settings
    if settings.read_tokens:
        _require_token(request, settings.read_tokens + settings.write_tokens, "reading")


def _require_token(request: Request, accepted: Sequence[str], what: str) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, f"{what} needs Authorization: Bearer <token>", _CHALLENGE)
    if not token_matches(token, accepted):
        raise ApiError(403, f"the bearer token is not accepted for {what}")


def token_matches(token: str, accepted: Sequence[str]) -> bool:
    """Compared with every accepted token, in constant time, so timing reveals nothing."""
    given = token.encode()
    matches = [hmac.compare_digest(given, candidate.encode()) for candidate in accepted]
    return any(matches)


def check_federation(sparql: str, allowed: Sequence[str]) -> None:
    """400 for a SERVICE or LOAD whose target is not under an allowed IRI prefix."""
    for keyword, iri in remote_targets(sparql):
        if iri is None:
            raise ApiError(400, f"{keyword} needs an IRI here: a variable or unknown prefix is not allowed")
        if not any(iri.startswith(prefix) for prefix in allowed):
            raise ApiError(
                400,
                f"{keyword} <{iri}> is not allowed on this endpoint; "
                "its operator can allow endpoints with --allow-service PREFIX",
            )


class BodyTooLarge(Exception):
    """Raised from `receive` once a streamed body passes the limit."""


class BodyLimit:
    """ASGI middleware answering 413 for a body over `max_body` bytes.

    A declared Content-Length is refused before anything is read; a chunked body is counted
    as it streams and stopped once it passes the limit, so neither is ever held whole.
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than this server accepts ({self.max_body} bytes)"
        response = error_response(Request(scope), 413, message, {"Connection": "close"})
        await response(scope, receive, send)
