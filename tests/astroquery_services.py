"""Astroquery's services, replayed from recorded responses on 127.0.0.1 (imported as `astroquery_services`).

Astroquery builds `https://<mirror>/...` URLs itself and its configuration only accepts the
official mirrors, so the services are replaced below astroquery, at the HTTP layer: the server
is the kernel's HTTPS proxy (`https_proxy`), answers CONNECT to the proxied hosts with TLS
under a certificate from a throw-away CA that the kernel trusts (`REQUESTS_CA_BUNDLE`), and
serves `runs/recorded/` by `routes.json` (host, method, path, and a text the query must contain).
Gaia's TAP client speaks `http.client`, which takes no proxy: a notebook points `GaiaClass` at
`url` instead, as a user of a TAP mirror would.
"""

from __future__ import annotations

import gzip
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import trustme

RECORDED = Path(__file__).parent / "runs" / "recorded"
PROXIED_HOSTS = ("simbad.cds.unistra.fr", "vizier.cds.unistra.fr")
HANG_LIMIT_S = 30.0
"""How long a request told to hang waits before the connection is dropped, if the test has not ended."""


class AstroqueryServices:
    """The recorded services, started on a free port; `fail` and `never_answer` change one route."""

    def __init__(self, directory: Path) -> None:
        self.routes: list[dict[str, Any]] = json.loads((RECORDED / "routes.json").read_text())
        self.overrides: dict[tuple[str, str], int | None] = {}
        self.released = threading.Event()
        authority = trustme.CA()
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = directory / "ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(*PROXIED_HOSTS).configure_cert(self.tls)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.services = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.config_home, self.cache_home = directory / "config", directory / "cache"
        for home in (self.config_home, self.cache_home):
            for root in ("astropy", "astroquery"):
                (home / root).mkdir(parents=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def environment(self) -> dict[str, str]:
        """Kernel variables sending astroquery here, and astropy's config and cache to the test directory."""
        proxy = self.url.rstrip("/")
        return {
            "https_proxy": proxy,
            "HTTPS_PROXY": proxy,
            "no_proxy": "",
            "NO_PROXY": "",
            "REQUESTS_CA_BUNDLE": str(self.ca_file),
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_CACHE_HOME": str(self.cache_home),
        }

    def fail(self, host: str, path: str, status: int = 500) -> None:
        """Answer every request for `host` and `path` with `status`."""
        self.overrides[host, path] = status

    def never_answer(self, host: str, path: str) -> None:
        """Accept requests for `host` and `path`, read them, and send nothing back."""
        self.overrides[host, path] = None

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, host: str, method: str, path: str, text: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) for a request; None to hang."""
        if (host, path) in self.overrides:
            status = self.overrides[host, path]
            return None if status is None else (status, "text/plain", b"Internal Server Error")
        for route in self.routes:
            if (route["host"], route["method"], route["path"]) == (host, method, path) and route.get(
                "match", ""
            ) in text:
                body = (RECORDED / route["file"]).read_bytes()
                return 200, route["content_type"], gzip.compress(body) if route.get("gzip") else body
        return 404, "text/plain", f"no recorded response for {method} {host}{path}".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tunnel_host: str | None = None

    def do_CONNECT(self) -> None:
        """Open the tunnel astroquery asks its proxy for, and be the service at its end."""
        self.send_response(200, "Connection established")
        self.end_headers()
        self.tunnel_host = self.path.rsplit(":", 1)[0]
        self.connection = self.server.services.tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.close_connection = False

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        host = self.tunnel_host or self.headers["Host"].rsplit(":", 1)[0]
        path, _, query = self.path.partition("?")
        services: AstroqueryServices = self.server.services
        answer = services.answer(host, self.command, path, unquote_plus(f"{query}\n{body.decode()}"))
        if answer is None:
            services.released.wait(HANG_LIMIT_S)
            self.close_connection = True
            return
        status, content_type, data = answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows failures, not every request."""
