"""Real servers for the API tests: uvicorn in a thread, on a free port, over a fresh store.

`served` is a server over the harvested examples, once with the embedded on-disk store
(queries in worker processes) and once with the session's Oxigraph server behind it (remote
mode); tests that take it run against both. `serve(...)` starts one with other settings.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import Settings
from harvesters.notebooks import harvest
from kg.store import EmbeddedStore, RemoteStore

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-write-token-0123456789"
STARTUP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    settings: Settings
    http: httpx.Client
    """A client with keep-alive: a fresh `httpx.get` costs ~30 ms building its TLS context."""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def export(self) -> bytes:
        """The whole dataset as N-Quads, through the server: the bytes to compare before and after."""
        response = self.http.get("/store", headers={"Accept": "application/n-quads", **self.auth})
        response.raise_for_status()
        return response.content


@pytest.fixture(scope="session")
def harvested_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed on-disk store holding the harvested examples; servers get copies of it."""
    path = tmp_path_factory.mktemp("harvested") / "store"
    with EmbeddedStore(path) as store:
        assert harvest([ROOT / "examples"], store).written
    return path


@contextmanager
def running(settings: Settings) -> Iterator[str]:
    """uvicorn serving `create_app(settings)` in a thread, on a socket bound before it starts."""
    app = create_app(settings)
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every small response waits 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


ServerFactory = Callable[..., Server]


@contextmanager
def _factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, harvested: Path
) -> Iterator[ServerFactory]:
    with ExitStack() as stack:

        def start(backend: str = "embedded", **options: object) -> Server:
            """A server over a fresh copy of the harvested examples (`remote`: in the Oxigraph server)."""
            if backend == "remote":
                location = request.getfixturevalue("oxigraph_server")
                with RemoteStore(location) as remote:
                    remote.update("DROP ALL")
                    harvest([ROOT / "examples"], remote)
            else:
                location = str(tmp_path_factory.mktemp("served") / "store")
                shutil.copytree(harvested, location)
            settings = Settings(**{"store": location, "write_tokens": (TOKEN,), **options})  # type: ignore[arg-type]
            url = stack.enter_context(running(settings))
            http = stack.enter_context(httpx.Client(base_url=url, timeout=30))
            return Server(url, TOKEN, settings, http)

        yield start


@pytest.fixture
def serve(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, harvested_store: Path
) -> Iterator[ServerFactory]:
    """Start servers with chosen settings for one test: `serve(query_timeout=1.0)`."""
    with _factory(request, tmp_path_factory, harvested_store) as start:
        yield start


@pytest.fixture(scope="module")
def serve_module(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, harvested_store: Path
) -> Iterator[ServerFactory]:
    """`serve` for servers shared by a module's tests."""
    with _factory(request, tmp_path_factory, harvested_store) as start:
        yield start


@pytest.fixture(scope="module", params=["embedded", "remote"])
def served(request: pytest.FixtureRequest, serve_module: ServerFactory) -> Server:
    """A server over the harvested examples, with a write token, per backend; shared by a module's
    tests, so tests that write use graphs of their own."""
    return serve_module(request.param)
