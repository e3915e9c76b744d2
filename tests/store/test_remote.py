"""What only the remote store does: endpoint URLs, HTTP failures, credentials, the server's import."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Triple

from kg.namespaces import Namespace
from kg.store import QuerySyntaxError, RemoteStore, StoreError
from kg.store.base import in_graph
from kg.store.remote import endpoint_urls

EX = Namespace("http://example.org/")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://h:7878", ("http://h:7878/query", "http://h:7878/update", "http://h:7878/store")),
        ("http://h:7878/", ("http://h:7878/query", "http://h:7878/update", "http://h:7878/store")),
        ("https://h/kg/query", ("https://h/kg/query", "https://h/kg/update", "https://h/kg/store")),
        (
            "http://h:3030/ds/sparql",
            ("http://h:3030/ds/sparql", "http://h:3030/ds/update", "http://h:3030/ds/store"),
        ),
    ],
)
def test_endpoint_urls_follow_the_oxigraph_layout(given: str, expected: tuple[str, str, str]) -> None:
    assert endpoint_urls(given) == expected


def test_explicit_urls_win() -> None:
    with RemoteStore("http://h:3030/ds/sparql", store_url="http://h:3030/ds/data") as store:
        assert (store.update_url, store.store_url) == ("http://h:3030/ds/update", "http://h:3030/ds/data")


def test_update_syntax_error_carries_the_servers_message(oxigraph_server: str) -> None:
    with (
        RemoteStore(oxigraph_server) as store,
        pytest.raises(QuerySyntaxError, match=r"/update: error at 1:\d+"),
    ):
        store.update("INSERT DATA { <http://example.org/a> }")


def test_an_unreachable_store_is_named(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}"
    with RemoteStore(url) as store, pytest.raises(StoreError, match=f"{url}/query: cannot reach the store"):
        store.ask("ASK {}")


def test_an_http_failure_names_the_url_and_status(oxigraph_server: str) -> None:
    url = f"{oxigraph_server}/no-such-endpoint"
    with RemoteStore(url) as store, pytest.raises(StoreError, match=f"POST {url}/query answered HTTP 404"):
        store.ask("ASK {}")


def test_a_silent_server_times_out(silent_server: str) -> None:
    with RemoteStore(silent_server, timeout=0.2) as store, pytest.raises(StoreError, match="cannot reach"):
        store.ask("ASK {}")


def test_token_and_headers_are_sent(recording_server: tuple[str, list[dict[str, str]]]) -> None:
    url, seen = recording_server
    with RemoteStore(url, token="s3cret", headers={"X-Team": "oda"}) as store:
        assert store.ask("ASK {}")
    assert seen[0]["Authorization"] == "Bearer s3cret"
    assert seen[0]["X-Team"] == "oda"


def test_the_server_refuses_a_bad_file_whole(oxigraph_server: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.nt"
    good = "".join(
        f"<http://example.org/s{i}> <http://example.org/p> <http://example.org/o> .\n" for i in range(5000)
    )
    path.write_text(good + '<http://example.org/s> <http://example.org/p> "broken .\n')
    with RemoteStore(oxigraph_server) as store:
        store.update("DROP ALL")
        store.replace_graphs({EX.existing: in_graph(EX.existing, [Triple(EX.s, EX.p, EX.o)])})
        with pytest.raises(StoreError, match=r"cannot import .*bad\.nt.*line 5001"):
            store.import_file(path, RdfFormat.N_TRIPLES, EX.g)
        assert store.named_graphs() == [EX.existing]


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers, like a hung endpoint."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An endpoint that answers every query `true` and records the request headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(dict(self.headers))
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"head": {}, "boolean": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()
