"""The astroquery tracer in real kernels: papermill runs test notebooks whose astroquery calls go to
recorded services on 127.0.0.1 (see `astroquery_services`), with the kernel environment a run gets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import astropy.units as u
import papermill
import pytest
from astropy.coordinates import SkyCoord
from astroquery_services import AstroqueryServices
from support import free_port
from traitlets.config import Config

from kg.runs.execute import RunKernelManager
from kg.runs.model import AstroqueryCall
from kg.runs.trace import KERNEL_SITE, read_trace, tracing_environment
from kg.runs.tracer import describe_target, to_json

NOTEBOOKS = Path(__file__).parent / "notebooks"
SIMBAD = "simbad.cds.unistra.fr"
VIZIER = "vizier.cds.unistra.fr"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[AstroqueryServices]:
    replayed = AstroqueryServices(tmp_path / "services")
    yield replayed
    replayed.close()


def run_notebook(
    name: str, tmp_path: Path, services: AstroqueryServices, *, timeout_s: float = 10.0, **parameters: Any
) -> tuple[list[AstroqueryCall], papermill.PapermillExecutionError | None]:
    """Execute a test notebook as a run would (the trace variables reach the kernel only, through
    the executor's kernel manager); return the calls it recorded and the notebook's error, if any."""
    trace = tmp_path / "trace.jsonl"
    env = {**tracing_environment(trace, timeout_s=timeout_s), **services.environment()}
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(tmp_path / f"{name}.ipynb"),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            kernel_manager_class=RunKernelManager,
            config=Config({"RunKernelManager": {"extra_env": env}}),
        )
    except papermill.PapermillExecutionError as error:
        return read_trace(trace), error
    return read_trace(trace), None


def test_simbad_call_is_recorded_with_the_object_it_asked_for(
    tmp_path: Path, services: AstroqueryServices
) -> None:
    before = datetime.now(UTC)
    calls, error = run_notebook("aq_simbad", tmp_path, services)
    assert error is None
    [call] = calls
    assert (call.module, call.method, call.outcome, call.error) == ("SimbadClass", "query_object", "ok", None)
    assert call.objects == ("Mrk 421",)
    assert json.loads(call.arguments) == {"args": ["Mrk 421"], "kwargs": {}}
    assert before < call.started_at < before + timedelta(seconds=30)
    assert 0 < call.duration_s < 10
    assert call.cache is False, "runs switch astroquery's 7-day response cache off"


def test_sync_query_calling_its_async_twin_is_recorded_once_with_its_region(
    tmp_path: Path, services: AstroqueryServices
) -> None:
    calls, error = run_notebook("aq_vizier", tmp_path, services)
    assert error is None
    [call] = calls
    assert (call.module, call.method, call.outcome) == ("VizierClass", "query_region", "ok")
    assert call.region == "ICRS 10.684708 41.26875; radius=0.1 deg"
    assert call.objects == ()
    assert json.loads(call.arguments) == {
        "args": ["ICRS 10.684708 41.26875"],
        "kwargs": {"radius": "0.1 deg"},
    }


def test_gaia_adql_query_is_recorded(tmp_path: Path, services: AstroqueryServices) -> None:
    calls, error = run_notebook("aq_gaia", tmp_path, services, tap_server=services.url)
    assert error is None
    [call] = calls
    assert (call.module, call.method, call.outcome) == ("GaiaClass", "launch_job", "ok")
    [query] = json.loads(call.arguments)["args"]
    assert query.startswith("SELECT TOP 5 source_id, ra, dec")


def test_failed_call_is_recorded_and_reaches_the_notebook_unchanged(
    tmp_path: Path, services: AstroqueryServices
) -> None:
    services.fail(SIMBAD, "/simbad/sim-tap/sync", status=500)
    calls, error = run_notebook("aq_simbad", tmp_path, services)
    assert error is not None, "the notebook fails as it would without the tracer"
    [call] = calls
    assert (call.method, call.outcome, call.objects) == ("query_object", "error", ("Mrk 421",))
    assert call.error == f"{error.ename}: {error.evalue}"
    assert call.error.startswith("DALServiceError: Internal Server Error")


def test_notebook_that_handles_a_failed_call_goes_on_and_its_later_calls_are_recorded(
    tmp_path: Path, services: AstroqueryServices
) -> None:
    services.fail(SIMBAD, "/simbad/sim-tap/sync", status=500)
    calls, error = run_notebook("aq_fallback", tmp_path, services)
    assert error is None
    assert [(c.module, c.method, c.outcome) for c in calls] == [
        ("SimbadClass", "query_object", "error"),
        ("VizierClass", "query_region", "ok"),
    ]
    assert calls[1].region == "ICRS 166.113808 38.208833; radius=0.1 deg"


def test_unreachable_server_is_recorded_as_an_error(tmp_path: Path, services: AstroqueryServices) -> None:
    calls, error = run_notebook("aq_gaia", tmp_path, services, tap_server=f"http://127.0.0.1:{free_port()}/")
    assert error is not None and error.ename == "ConnectionRefusedError"
    [call] = calls
    assert call.outcome == "error"
    assert call.error.startswith("ConnectionRefusedError: ")


@pytest.mark.parametrize(
    ("notebook", "host", "path"),
    [
        pytest.param("aq_vizier", VIZIER, "/viz-bin/votable", id="requests-session"),
        pytest.param("aq_gaia", "127.0.0.1", "/tap-server/tap/sync", id="tap-connection"),
    ],
)
def test_server_that_never_answers_fails_the_call_after_the_timeout(
    tmp_path: Path, services: AstroqueryServices, notebook: str, host: str, path: str
) -> None:
    services.never_answer(host, path)
    parameters = {"tap_server": services.url} if notebook == "aq_gaia" else {}
    calls, error = run_notebook(notebook, tmp_path, services, timeout_s=2.0, **parameters)
    assert error is not None
    [call] = calls
    assert call.outcome == "error"
    assert "timed out" in call.error.lower()
    assert 2.0 <= call.duration_s < 5.0


def run_python(code: str, env: dict[str, str]) -> str:
    """Run `code` in a fresh interpreter of the kernel's Python with `env` added to ours."""
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_kernel_start_loads_only_the_tracer_not_astroquery(tmp_path: Path) -> None:
    loaded = run_python(
        "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('kg_astroquery_tracer', 'astroquery', 'astropy', 'requests')))",
        tracing_environment(tmp_path / "trace.jsonl", timeout_s=5),
    )
    assert loaded == "['kg_astroquery_tracer']"


def test_without_a_trace_file_nothing_is_traced(tmp_path: Path) -> None:
    env = tracing_environment(tmp_path / "trace.jsonl", timeout_s=5)
    del env["KG_TRACE_FILE"]
    assert run_python("import sys; print('kg_astroquery_tracer' in sys.modules)", env) == "False"


def test_the_sitecustomize_it_shadows_still_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shadowed = tmp_path / "venv-site"
    shadowed.mkdir()
    (shadowed / "sitecustomize.py").write_text("import builtins\nbuiltins.shadowed_site_ran = True\n")
    monkeypatch.setenv("PYTHONPATH", str(shadowed))
    env = tracing_environment(tmp_path / "trace.jsonl", timeout_s=5)
    code = "import builtins, sys; print(builtins.shadowed_site_ran, 'kg_astroquery_tracer' in sys.modules)"
    assert run_python(code, env) == "True True"


def test_tracing_environment_prepends_the_kernel_site_to_the_python_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/opt/lib")
    monkeypatch.chdir(tmp_path)
    env = tracing_environment(Path("trace.jsonl"), timeout_s=7.5)
    assert env == {
        "PYTHONPATH": f"{KERNEL_SITE}{os.pathsep}/opt/lib",
        "KG_TRACE_FILE": str(tmp_path / "trace.jsonl"),
        "KG_ASTROQUERY_TIMEOUT": "7.5",
    }
    with pytest.raises(ValueError, match="positive number of seconds"):
        tracing_environment(Path("trace.jsonl"), timeout_s=0)


RECORD = {
    "module": "SimbadClass",
    "method": "query_object",
    "arguments": {"args": ["Mrk 421"], "kwargs": {}},
    "started_at": "2025-03-01T12:00:04.318000+00:00",
    "duration_s": 0.25,
    "outcome": "ok",
    "error": None,
    "objects": ["Mrk 421"],
    "region": None,
    "cache": False,
}


def test_read_trace_leaves_out_a_last_line_cut_short(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    line = json.dumps(RECORD)
    trace.write_text(f"{line}\n{line[: len(line) // 2]}")
    [call] = read_trace(trace)
    assert call == AstroqueryCall(
        module="SimbadClass",
        method="query_object",
        arguments='{"args": ["Mrk 421"], "kwargs": {}}',
        started_at=datetime(2025, 3, 1, 12, 0, 4, 318000, tzinfo=UTC),
        duration_s=0.25,
        outcome="ok",
        objects=("Mrk 421",),
        cache=False,
    )
    assert read_trace(tmp_path / "no-calls.jsonl") == []


def test_read_trace_names_a_bad_line_before_the_last(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text(f"{json.dumps(RECORD)}\nnot json\n{json.dumps(RECORD)}\n")
    with pytest.raises(ValueError, match=r"trace\.jsonl:2: not an astroquery call record"):
        read_trace(trace)


M31 = SkyCoord(10.684708, 41.26875, unit="deg")


@pytest.mark.parametrize(
    ("method", "arguments", "objects", "region"),
    [
        ("query_object", {"object_name": "Mrk 421", "wildcard": False}, ["Mrk 421"], None),
        ("query_region", {"coordinates": "M31", "radius": 2 * u.arcmin}, ["M31"], "M31; radius=2.0 arcmin"),
        ("query_region", {"coordinates": M31, "radius": None}, [], "ICRS 10.684708 41.26875"),
        (
            "cone_search",
            {"coordinate": M31.galactic, "radius": 0.5 * u.deg},
            [],
            "GALACTIC 121.174329 -21.573309; radius=0.5 deg",
        ),
        ("query_region", {"coordinates": "00h42m44.3s +41d16m09s"}, [], "00h42m44.3s +41d16m09s"),
        ("query_objects", {"object_names": ["M1", "3C 273"]}, ["M1", "3C 273"], None),
        ("launch_job", {"query": "SELECT TOP 5 * FROM gaiadr3.gaia_source"}, [], None),
    ],
)
def test_calls_name_the_objects_and_regions_they_ask_about(
    method: str, arguments: dict[str, Any], objects: list[str], region: str | None
) -> None:
    assert describe_target(method, arguments) == (objects, region)


def test_arguments_that_are_not_json_are_kept_as_text() -> None:
    value = {"coordinates": [M31], "radius": 0.1 * u.deg, "columns": ("ra", "dec"), "limit": 5}
    assert to_json(value) == {
        "coordinates": ["ICRS 10.684708 41.26875"],
        "radius": "0.1 deg",
        "columns": ["ra", "dec"],
        "limit": 5,
    }
