"""The query UI at `/`: YASGUI served by us, driven in a real Chromium against a real server.

The server is uvicorn on a free port over an on-disk store holding the harvested examples. The
browser is Debian's `chromium` (installed by `make setup`) driven by Playwright; a missing
Chromium fails these tests rather than skipping them.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import api.pages as pages
from kg.queries import NamedQuery, named_queries

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
YASGUI_ACCEPT = "application/sparql-results+json,*/*;q=0.9"
EXAMPLE_WORKFLOWS = ["lightcurve", "spectrum_fit", "image_cutout"]
TIMEOUT_MS = 15_000
TAB_NAMES = ".yasgui .tabsList .tab a[role=tab] > span"
ACTIVE_TAB_NAME = ".yasgui .tabsList .tab.active a[role=tab] > span"


# --- the page without a browser ----------------------------------------------------------------


def _pages_app() -> FastAPI:
    app = FastAPI()
    app.include_router(pages.router)
    return app


def _config_from(page_html: str) -> dict:
    match = re.search(r'<script type="application/json" id="kg-config">(.*?)</script>', page_html, re.S)
    assert match, "the page has no #kg-config block"
    return json.loads(match.group(1))


def test_page_has_charset_header_links_and_the_named_queries() -> None:
    response = TestClient(_pages_app()).get("/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    body = response.text
    assert '<meta charset="utf-8">' in body  # YASGUI garbles its icons without it
    assert 'href="docs"' in body
    assert 'href="api/workflows"' in body
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    config = _config_from(body)
    assert config["endpoint"] == "sparql"
    names = [q["name"] for q in config["queries"]]
    assert names[0] == "workflows"
    assert sorted(names) == sorted(named_queries())
    for query in config["queries"]:
        assert set(query) >= {"name", "title", "description", "params", "text"}


def test_queries_needing_values_say_which_variable_to_bind() -> None:
    queries = {q["name"]: q for q in pages.page_queries(named_queries())}
    by_type = queries["workflows-by-parameter-type"]
    assert by_type["params"] == {"type": named_queries()["workflows-by-parameter-type"].params["type"]}
    assert "# bind ?type, e.g. VALUES ?type { oda:StartTime }" in by_type["text"]
    assert '# bind ?name, e.g. VALUES ?name { "lightcurve" }' in queries["workflow-parameters"]["text"]
    # the file's own text is kept as is around the hint
    original = named_queries()["workflows-by-parameter-type"].text
    hint_line = next(line for line in by_type["text"].splitlines() if line.startswith("# bind"))
    assert by_type["text"].replace(hint_line + "\n", "") == original
    assert queries["workflows"]["text"] == named_queries()["workflows"].text


def test_query_text_cannot_break_out_of_the_json_block() -> None:
    nasty = "SELECT * { ?s ?p '</script><script>alert(1)</script><!-- & ]]>' }"
    queries = {"workflows": NamedQuery("workflows", nasty, "</script>", "a & b <!--")}
    page_html = pages.render_page(queries)
    assert page_html.count("</script>") == 3  # the JSON block's and the two script tags'
    assert "<!--" not in page_html
    config = _config_from(page_html)
    assert config["queries"][0]["text"] == nasty
    assert config["queries"][0]["title"] == "</script>"


def test_missing_assets_give_a_500_page_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pages, "YASGUI_DIR", tmp_path / "not-installed")
    client = TestClient(_pages_app())
    response = client.get("/")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "make setup" in response.text
    assert "npm ci" in response.text
    asset = client.get("/ui/yasgui/yasgui.min.js")
    assert asset.status_code == 404
    assert "make setup" in asset.text


def test_assets_are_served_and_nothing_else_is() -> None:
    client = TestClient(_pages_app())
    js = client.get("/ui/yasgui/yasgui.min.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert client.get("/ui/yasgui/yasgui.min.css").headers["content-type"].startswith("text/css")
    assert client.get("/ui/oda-kg.js").status_code == 200
    assert client.get("/ui/favicon.svg").headers["content-type"] == "image/svg+xml"
    for path in ["/ui/yasgui/yasgui.esm.js", "/ui/yasgui/..%2Fpackage.json", "/ui/index.html", "/ui/x"]:
        assert client.get(path).status_code == 404, path


def test_lockfile_pins_yasgui_from_the_npm_registry_only() -> None:
    lock = json.loads((ROOT / "api" / "ui" / "package-lock.json").read_text())
    assert lock["lockfileVersion"] == 3
    assert "node_modules/@zazuko/yasgui" in lock["packages"]
    for name, entry in lock["packages"].items():
        resolved = entry.get("resolved")
        assert resolved is None or resolved.startswith("https://registry.npmjs.org/"), (name, resolved)
        if name:
            assert entry.get("integrity", "").startswith("sha512-"), name


# --- a real server and a real browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def server(serve_module) -> str:
    """Base URL of the app (conftest's real uvicorn) over a copy of the harvested examples."""
    return serve_module().url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is not installed ({CHROMIUM} missing): run `make setup`", pytrace=False)
    try:
        pages.check_assets()
    except pages.AssetsMissing as missing:  # npm ci has not run
        pytest.fail(str(missing), pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class PageLog:
    """What a page did: console errors, uncaught exceptions, every request, blocked requests."""

    def __init__(self, page, origin: str) -> None:
        self.origin = origin
        self.errors: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.blocked: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("request", lambda r: self.requests.append((r.method, r.url)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))

    def foreign(self) -> list[str]:
        return [
            url
            for _, url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and not _same_origin(url, self.origin)
        ]


def _same_origin(url: str, origin: str) -> bool:
    a, b = urlsplit(url), urlsplit(origin)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


@pytest.fixture
def page(browser, server: str) -> Iterator[tuple[object, PageLog]]:
    """A fresh page (empty localStorage) where any request off the server's origin is refused,
    as on a machine with no network beyond localhost; the log records what was attempted."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    browser_page = context.new_page()
    log = PageLog(browser_page, server)

    def offline(route) -> None:
        if _same_origin(route.request.url, server):
            route.continue_()
        else:
            log.blocked.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", offline)
    try:
        yield browser_page, log
    finally:
        context.close()


def _run_current_tab(browser_page) -> object:
    """Click the visible tab's run button; return the SPARQL response."""
    with browser_page.expect_response(
        lambda r: urlsplit(r.url).path == "/sparql" and r.request.method == "POST"
    ) as answer:
        browser_page.locator(".tabPanel.active .yasqe_queryButton").click()
    return answer.value


def _assert_png(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 0 and height > 0
    return width, height


def test_workflows_tab_runs_and_lists_the_examples(page, server: str) -> None:
    browser_page, log = page
    browser_page.goto(server + "/")

    # YASGUI rendered, with the named queries as tabs and `workflows` first and selected
    tabs = browser_page.locator(TAB_NAMES)
    tabs.first.wait_for()
    tab_names = tabs.all_inner_texts()
    titles = [q.title for q in named_queries().values()]
    assert tab_names[0] == named_queries()["workflows"].title
    assert sorted(tab_names) == sorted(titles)
    assert browser_page.locator(ACTIVE_TAB_NAME).inner_text() == tab_names[0]
    editor = browser_page.locator(".tabPanel.active .CodeMirror")
    assert "SELECT ?workflow ?name" in editor.inner_text()
    endpoint = browser_page.locator(".tabPanel.active .controlbar input.autocomplete")
    assert endpoint.input_value() == server + "/sparql"

    # the header
    assert browser_page.locator(".kg-brand").inner_text() == "oda-kg"
    hrefs = browser_page.eval_on_selector_all(".kg-nav a", "links => links.map(a => a.href)")
    assert server + "/docs" in hrefs
    assert server + "/api/workflows" in hrefs

    # run it: a POST as YASGUI sends it, answered with SPARQL JSON, drawn as a table
    response = _run_current_tab(browser_page)
    assert response.status == 200, response.text()
    assert response.request.headers["accept"] == YASGUI_ACCEPT
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    table = browser_page.locator(".tabPanel.active .yasr table.dataTable")
    table.wait_for()
    for name in EXAMPLE_WORKFLOWS:
        browser_page.locator(".tabPanel.active .yasr td", has_text=name).first.wait_for()
    assert "lightcurve" in table.inner_text()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "query-page.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    width, height = _assert_png(shot)
    assert width >= 1000 and height >= 600

    assert not log.errors, log.errors
    assert not log.failed, log.failed


def test_page_needs_nothing_beyond_its_own_origin(page, server: str) -> None:
    browser_page, log = page
    browser_page.goto(server + "/")
    browser_page.locator(TAB_NAMES).first.wait_for()

    # a query needing a value, opened from the named-query picker, still runs as shown
    title = named_queries()["workflows-by-parameter-type"].title
    browser_page.locator(TAB_NAMES, has_text=title).click()
    assert "# bind ?type" in browser_page.locator(".tabPanel.active .CodeMirror").inner_text()
    assert _run_current_tab(browser_page).status == 200
    browser_page.locator(".tabPanel.active .yasr td").first.wait_for()

    # the picker re-opens a closed tab
    browser_page.locator(".yasgui .tabsList .tab.active .closeTab").click(force=True)
    assert title not in browser_page.locator(TAB_NAMES).all_inner_texts()
    browser_page.select_option("#kg-examples", "workflows-by-parameter-type")
    assert browser_page.locator(ACTIVE_TAB_NAME).inner_text() == title

    # typing a class or property (where YASGUI's stock completers ask lov.linkeddata.es) stays local
    browser_page.evaluate(
        "odaKg.yasgui.getTab().getYasqe().setValue('PREFIX schema: <http://schema.org/>\\n"
        "SELECT * WHERE { ?x a schema:')"
    )
    browser_page.locator(".tabPanel.active .CodeMirror").click()
    browser_page.keyboard.press("Control+End")
    browser_page.keyboard.type("Pers")
    browser_page.keyboard.press("Control+Space")
    browser_page.keyboard.type(" ; schema:nam")
    browser_page.keyboard.press("Control+Space")
    browser_page.wait_for_timeout(500)

    # a request the page's CSP stops never reaches `request` events: it is a console error instead
    assert log.requests, "no requests recorded"
    assert not log.foreign(), f"requests off the server's origin: {log.foreign()}"
    assert not log.blocked, log.blocked
    assert not log.errors, log.errors
