"""The query UI at `/`: YASGUI pointed at this server's `/sparql`, the named queries as tabs.

YASGUI comes from npm (`@zazuko/yasgui`, pinned in `api/ui/package-lock.json`) and is served by
this router from `api/ui/node_modules` after `npm ci` (run by `make setup`); no CDN is involved
and the page makes no request outside its own origin (its Content-Security-Policy says so too).
The page's own source (HTML template, script, style, icon) lives in `api/ui/src/`.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from kg.namespaces import PREFIXES, SPARQL_PROLOGUE
from kg.queries import NamedQuery, named_queries

UI_DIR = Path(__file__).resolve().parent / "ui"
PAGE_DIR = UI_DIR / "src"
#: Where `npm ci` puts YASGUI's prebuilt browser bundle. Looked up on each request.
YASGUI_DIR = UI_DIR / "node_modules" / "@zazuko" / "yasgui" / "build"

YASGUI_FILES = {
    "yasgui.min.js": "text/javascript; charset=utf-8",
    "yasgui.min.css": "text/css; charset=utf-8",
    "yasgui.min.js.map": "application/json",
}
#: Swagger UI for `/docs`, from npm like YASGUI: FastAPI's default page loads it from a CDN.
SWAGGER_DIR = UI_DIR / "node_modules" / "swagger-ui-dist"
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
PAGE_FILES = {
    "oda-kg.js": "text/javascript; charset=utf-8",
    "oda-kg.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

#: The named query shown first (and selected) on the page.
FIRST_QUERY = "workflows"
ENDPOINT = "sparql"  # resolved against the page's URL by the browser: `/sparql` at the root

#: YASGUI needs inline styles (it positions its widgets with style attributes); everything else
#: comes from this origin only, so a page that tried to reach another host would be stopped.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

DEFAULT_QUERY = (
    SPARQL_PROLOGUE
    + "\nSELECT ?workflow ?name ?notebook\nWHERE {\n"
    + "  ?workflow a oda:Workflow ;\n            schema:name ?name ;\n"
    + "            kg:notebookPath ?notebook .\n}\nORDER BY ?name\nLIMIT 100\n"
)

router = APIRouter()


class AssetsMissing(RuntimeError):
    """YASGUI's files are not where `npm ci` puts them."""


def _bind_hint(var: str, about: str) -> str:
    """The comment telling a reader which variable to bind, with the example from `about`."""
    example = re.search(r"e\.g\.\s*(\"[^\"]*\"|'[^']*'|[^\s,;]+)", about)
    value = example.group(1).rstrip(".)") if example else "..."
    return f"# bind ?{var}, e.g. VALUES ?{var} {{ {value} }} as the first line inside WHERE {{ }}"


def query_text_for_page(query: NamedQuery) -> str:
    """The query as the file has it, plus one `# bind ?var` line per parameter after its header."""
    if not query.params:
        return query.text
    lines = query.text.splitlines(keepends=True)
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    hints = [_bind_hint(var, about) + "\n" for var, about in query.params.items()]
    return "".join(lines[:header_end] + hints + lines[header_end:])


def page_queries(queries: dict[str, NamedQuery]) -> list[dict[str, object]]:
    """The named queries as the page's tabs: `workflows` first, then by name."""
    ordered = sorted(queries.values(), key=lambda q: (q.name != FIRST_QUERY, q.name))
    return [
        {
            "name": q.name,
            "title": q.title,
            "description": q.description,
            "params": dict(q.params),
            "text": query_text_for_page(q),
        }
        for q in ordered
    ]


def json_for_script(value: object) -> str:
    """JSON safe inside `<script type="application/json">`: no `</script>`, `<!--` or `]]>` can
    appear, because every `<`, `>` and `&` is written as a `\\u` escape (JSON.parse reads them back)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _yasgui_version() -> str:
    package = YASGUI_DIR.parent / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


@cache
def _digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _page_asset_url(name: str) -> str:
    path = PAGE_DIR / name
    return f"ui/{name}?v={_digest(path, path.stat().st_mtime_ns)}"


def check_assets() -> None:
    """Raise `AssetsMissing` naming the fix when YASGUI has not been installed."""
    missing = [name for name in ("yasgui.min.js", "yasgui.min.css") if not (YASGUI_DIR / name).is_file()]
    if missing:
        raise AssetsMissing(
            f"The query UI's browser assets are not installed ({', '.join(missing)} missing from "
            f"{YASGUI_DIR}). Run `make setup`, which runs `npm ci --prefix api/ui` "
            "(YASGUI from npm, pinned in api/ui/package-lock.json), then reload this page."
        )


def render_page(queries: dict[str, NamedQuery]) -> str:
    """The HTML of the query page, with the named queries and settings as a JSON block."""
    check_assets()
    version = _yasgui_version()
    config = {
        "endpoint": ENDPOINT,
        "queries": page_queries(queries),
        "prefixes": PREFIXES,
        "defaultQuery": DEFAULT_QUERY,
        "yasguiVersion": version,
    }
    urls = {
        "yasgui_js_url": f"ui/yasgui/yasgui.min.js?v={version}",
        "yasgui_css_url": f"ui/yasgui/yasgui.min.css?v={version}",
        "page_js_url": _page_asset_url("oda-kg.js"),
        "page_css_url": _page_asset_url("oda-kg.css"),
        "favicon_url": _page_asset_url("favicon.svg"),
    }
    page = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    for key, url in urls.items():
        page = page.replace("{{" + key + "}}", html.escape(url))
    return page.replace("{{config_json}}", json_for_script(config))


def _missing_page(message: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>oda-kg · query UI not installed</title></head>\n<body>\n"
        "<h1>The query UI is not installed</h1>\n"
        f"<p>{html.escape(message)}</p>\n"
        "<p>The SPARQL endpoint itself works without it: POST a query to <code>/sparql</code>.</p>\n"
        "</body></html>\n"
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def query_page() -> HTMLResponse:
    """The SPARQL query UI."""
    try:
        body = render_page(named_queries())
    except AssetsMissing as missing:
        return HTMLResponse(_missing_page(str(missing)), status_code=500)
    return HTMLResponse(
        body,
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


def _listed(directory: Path, files: dict[str, str], name: str) -> FileResponse:
    """One of the files a route serves, by name: nothing outside its list is ever read."""
    if name not in files:
        raise HTTPException(status_code=404, detail=f"no UI asset {name!r}")
    return _file(directory, name, files[name])


def _file(directory: Path, name: str, media_type: str) -> FileResponse:
    path = directory / name
    if not path.is_file():
        raise HTTPException(
            status_code=404,
            detail=f"{name} is not installed: run `make setup` (npm ci --prefix api/ui)",
        )
    # URLs carry a version (`?v=`), so a browser may keep the file for a day.
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/ui/yasgui/{name}", include_in_schema=False)
def yasgui_asset(name: str) -> FileResponse:
    """YASGUI's prebuilt bundle, from `npm ci` in `api/ui`."""
    return _listed(YASGUI_DIR, YASGUI_FILES, name)


@router.get("/docs", include_in_schema=False)
def api_docs() -> HTMLResponse:
    """The OpenAPI documentation, rendered by Swagger UI served from this origin."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="oda-kg API",
        swagger_js_url="/ui/swagger/swagger-ui-bundle.js",
        swagger_css_url="/ui/swagger/swagger-ui.css",
        swagger_favicon_url="/ui/swagger/favicon-32x32.png",
    )


@router.get("/ui/swagger/{name}", include_in_schema=False)
def swagger_asset(name: str) -> FileResponse:
    """Swagger UI's bundle, from `npm ci` in `api/ui`."""
    return _listed(SWAGGER_DIR, SWAGGER_FILES, name)


@router.get("/ui/{name}", include_in_schema=False)
def page_asset(name: str) -> FileResponse:
    """The page's own script, style and icon (`api/ui/src/`)."""
    return _listed(PAGE_DIR, PAGE_FILES, name)
