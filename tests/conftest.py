"""Fixtures shared by the whole suite: a real Oxigraph server and a fresh store of each backend.

A test that takes `store` runs twice, once on the embedded store and once on the remote
store, so one test body pins the behaviour both backends promise.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import free_port

from kg.store import EmbeddedStore, RemoteStore, Store

OXIGRAPH = Path(sys.executable).parent / "oxigraph"
STARTUP_TIMEOUT_S = 10.0


@pytest.fixture(scope="session", autouse=True)
def private_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What kg caches on disk (the kernels' environments) stays in the session's temporary
    directory, not in the user's ~/.cache; kernels started by the tests inherit it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
        yield


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph serve exited: {log.read_text()}")
        try:
            httpx.post(f"{url}/query", data={"query": "ASK {}"}, timeout=1.0).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"oxigraph serve did not answer at {url} within {STARTUP_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real `oxigraph serve` with a union default graph, as deployments run it."""
    directory = tmp_path_factory.mktemp("oxigraph")
    port = free_port()
    command = [OXIGRAPH, "serve", "--location", directory / "data", "--bind", f"127.0.0.1:{port}"]
    log = directory / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([*command, "--union-default-graph"], stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["embedded", "remote"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each backend: on-disk embedded, or the session server emptied."""
    if request.param == "embedded":
        backend: Store = EmbeddedStore(tmp_path / "store")
    else:
        backend = RemoteStore(request.getfixturevalue("oxigraph_server"))
        backend.update("DROP ALL")
    with backend:
        yield backend
