"""`kg serve` as an operator runs it, and the settings it reads."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from support import free_port

from api.settings import MIB, Settings, parse_size
from kg.cli import main

KG = Path(sys.executable).parent / "kg"
STARTUP_TIMEOUT_S = 20.0


@contextmanager
def kg_serve(*args: str, env: dict[str, str], log: Path) -> Iterator[tuple[str, list[str]]]:
    """`kg serve` in a subprocess; yields its base URL and the lines it printed before serving."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KG_")} | env
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(KG), "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=environment,
        )
    try:
        printed = []
        while not any(line.startswith("writes") for line in printed):
            line = process.stdout.readline()
            assert line, f"kg serve ended: {log.read_text()}"
            printed.append(line)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                httpx.get(f"{url}/api/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.05)
        yield url, printed
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        process.stdout.close()


def test_serve_prints_where_it_serves_and_how_to_allow_writes(harvested_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(harvested_store, store)
    with kg_serve("--store", str(store), env={}, log=tmp_path / "log") as (url, printed):
        text = "".join(printed)
        for path in ("/sparql", "/", "/docs"):
            assert f"{url}{path}\n" in text
        assert "writes are refused until you set KG_WRITE_TOKENS=" in text
        assert httpx.get(f"{url}/api/health").json()["workflows"] == 9
        update = httpx.post(
            f"{url}/update", data={"update": "CLEAR ALL"}, headers={"Authorization": "Bearer x"}
        )
        assert update.status_code == 403 and "KG_WRITE_TOKENS" in update.text
        second = subprocess.run(
            [str(KG), "--store", str(store), "serve", "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert "in use by another process" in " ".join(second.stderr.split())
    assert not (tmp_path / "store.checkpoints").exists()  # the query workers cleaned up


def test_serve_over_a_remote_store_with_a_write_token(oxigraph_server: str, tmp_path: Path) -> None:
    env = {"KG_WRITE_TOKENS": "first, second", "KG_QUERY_TIMEOUT": "5"}
    with kg_serve("--store", oxigraph_server, env=env, log=tmp_path / "log") as (url, printed):
        assert "writes need Authorization: Bearer" in "".join(printed)
        assert httpx.get(f"{url}/api/health").json()["store"] == "remote"
        graph = "http://example.org/served-by-kg-serve"
        update = f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:p> 1 }} }}"
        written = httpx.post(
            f"{url}/update", data={"update": update}, headers={"Authorization": "Bearer second"}
        )
        assert written.status_code == 204
        ask = httpx.get(f"{url}/sparql", params={"query": f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
        assert ask.json()["boolean"] is True
        httpx.post(
            f"{url}/update",
            data={"update": f"DROP GRAPH <{graph}>"},
            headers={"Authorization": "Bearer first"},
        )


@pytest.mark.parametrize(
    "args",
    [["--max-body", "lots"], ["--row-limit", "many"], ["--executor", "ray://x"], ["--run-jobs", "0"]],
)
def test_bad_settings_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        [str(KG), "serve", "--store", "memory:", *args], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done.stderr


def test_settings_come_from_the_environment_then_options() -> None:
    env = {
        "KG_STORE": "memory:",
        "KG_WRITE_TOKENS": " a, b ,,",
        "KG_READ_TOKENS": "r",
        "KG_QUERY_TIMEOUT": "2.5",
        "KG_ROW_LIMIT": "10",
        "KG_MAX_BODY": "1MiB",
    }
    settings = Settings.from_env(env, row_limit=20, cors_origins=(), workers=None)
    assert settings == Settings(
        store="memory:",
        write_tokens=("a", "b"),
        read_tokens=("r",),
        query_timeout=2.5,
        row_limit=20,
        max_body=MIB,
    )
    assert Settings.from_env({}) == Settings()
    with pytest.raises(TypeError):
        Settings.from_env({}, nonsense=1)


@pytest.mark.parametrize(
    ("text", "size"),
    [("100", 100), ("16M", 16 * MIB), ("16MiB", 16 * MIB), ("2k", 2048), ("1 GB", 1024 * MIB)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_a_memory_store_is_served_in_process(serve) -> None:
    server = serve(store="memory:")
    assert httpx.get(f"{server.url}/api/health").json()["store"] == "memory"
    update = httpx.post(
        f"{server.url}/update", data={"update": "INSERT DATA { <urn:a> <urn:p> 1 }"}, headers=server.auth
    )
    assert update.status_code == 204
    count = httpx.get(f"{server.url}/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert count.json()["results"]["bindings"][0]["n"]["value"] == "1"


def test_the_cli_works_through_the_server(serve) -> None:
    """The error for a locked store says to point KG_STORE at `kg serve`: that must then work."""
    server = serve()
    listed = CliRunner().invoke(main, ["--store", server.url, "workflows", "--json"])
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == 9
    exported = CliRunner().invoke(main, ["--store", server.url, "export", "--format", "nquads"])
    assert exported.exit_code == 0
    assert exported.stdout_bytes == server.export()
