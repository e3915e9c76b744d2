"""Execute every example notebook in ``examples/`` offline, as MMODA would, and check what it produces.

Each run gets a fresh copy of ``examples/`` (nb2workflow also runs a copy of the repository in a temporary
directory), so notebooks write their files there and never into the source tree. The kernel's working
directory is the copied notebook's directory. The output variables (the ``outputs`` cell) are collected by
a cell appended to the copy, the way nb2workflow gathers them, and written as JSON for the assertions.

Runs go two at a time. papermill's own ``cwd=`` does a process-wide ``os.chdir``, which races between
threads, so the working directory is handed to the kernel through nbclient's ``resources`` instead.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import papermill as pm
import pytest
import yaml
from astropy.io import fits
from astropy.table import Table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
OUTPUTS_FILE = "_example_outputs.json"
S3_CREDENTIALS = json.dumps(
    {"endpoint": "https://s3.example.org", "bucket": "survey", "access_key": "AKIATEST", "secret_key": "x"}
)

GATHER_CELL = """
import json as _json

import numpy as _np
from astropy.table import Table as _Table


def _example_output_summary(value):
    if isinstance(value, _Table):
        return {{"colnames": value.colnames, "rows": len(value),
                "columns": {{name: _np.asarray(value[name]).tolist() for name in value.colnames}}}}
    if isinstance(value, _np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


with open({file!r}, "w") as _f:
    _json.dump({{_name: _example_output_summary(globals()[_name]) for _name in {names!r}}}, _f)
"""


@dataclass
class Job:
    notebook: str  # path relative to examples/
    parameters: dict = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None  # called with the run directory before execution


@dataclass
class Run:
    directory: Path  # the copied notebook's directory (the kernel's working directory)
    output_notebook: Path
    outputs: dict
    error: pm.PapermillExecutionError | None
    seconds: float


def output_names(notebook: nbformat.NotebookNode) -> list[str]:
    """Names assigned in the cell tagged ``outputs``."""
    names = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and "outputs" in cell.metadata.get("tags", []):
            for node in ast.parse(cell.source).body:
                targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def execute(job: Job, tmp: Path) -> Run:
    """Copy examples/ into ``tmp`` and execute ``job.notebook`` there, retrying once if the kernel fails."""
    root = tmp / "examples"
    shutil.copytree(
        EXAMPLES,
        root,
        ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", "__pycache__", "*_output.ipynb", ".oda_api_context"
        ),
    )
    notebook_path = root / job.notebook
    notebook = nbformat.read(notebook_path, as_version=4)
    names = output_names(notebook)
    if names:
        notebook.cells.append(nbformat.v4.new_code_cell(GATHER_CELL.format(file=OUTPUTS_FILE, names=names)))
        nbformat.write(notebook, notebook_path)
    if job.setup:
        job.setup(notebook_path.parent)

    output_notebook = tmp / f"{notebook_path.stem}_output.ipynb"
    started = time.monotonic()
    error = None
    for attempt in (1, 2):
        try:
            pm.execute_notebook(
                str(notebook_path),
                str(output_notebook),
                parameters=job.parameters,
                kernel_name="python3",
                resources={"metadata": {"path": str(notebook_path.parent)}},
                progress_bar=False,
                log_output=False,
                start_timeout=60,
                execution_timeout=120,
            )
            break
        except pm.PapermillExecutionError as exc:  # the notebook ran and raised: that is a result
            error = exc
            break
        except Exception:  # kernel start failure (e.g. a port collision between parallel kernels)
            if attempt == 2:
                raise
            time.sleep(1.0)
    outputs_file = notebook_path.parent / OUTPUTS_FILE
    outputs = json.loads(outputs_file.read_text()) if outputs_file.exists() else {}
    return Run(notebook_path.parent, output_notebook, outputs, error, time.monotonic() - started)


def execute_all(jobs: dict[str, Job], tmp: Path) -> dict[str, Run]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(execute, job, tmp / key) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def with_progress_callback(directory: Path) -> None:
    """What MMODA does before a run: a .oda_api_context file with a file:// progress callback."""
    (directory / ".oda_api_context").write_text(
        json.dumps({"callback": f"file://{directory / 'progress.json'}"})
    )


JOBS = {
    "lightcurve": Job("lightcurve.ipynb", setup=with_progress_callback),
    "lightcurve_short": Job(
        "lightcurve.ipynb", {"nbins": 5, "T1": "2022-01-10T00:00:00", "T2": "2022-01-20T00:00:00"}
    ),
    "test_lightcurve": Job("test_lightcurve.ipynb"),
    "spectrum_fit": Job("spectrum_fit.ipynb"),
    "spectrum_fit_soft": Job("spectrum_fit.ipynb", {"true_index": 2.8, "e_max": 50.0, "n_sim": 20}),
    "image_cutout": Job("image_cutout.ipynb"),
    "image_cutout_small": Job("image_cutout.ipynb", {"radius": 1.5}),
    "image_cutout_too_large": Job("image_cutout.ipynb", {"radius": 12.0}),
    "simbad_position": Job("simbad_position.ipynb"),
    "photometry_band_no_credentials": Job("photometry_band.ipynb"),
    "gaia_stars": Job("mmoda-repo/notebooks/gaia_stars.ipynb"),
    "flux_ratio": Job("mmoda-repo/notebooks/flux_ratio.ipynb"),
    "test_flux_ratio": Job("mmoda-repo/notebooks/test_flux_ratio.ipynb"),
}

CREDENTIAL_JOBS = {
    "photometry_g": Job("photometry_band.ipynb"),
    "photometry_r_threshold": Job("photometry_band.ipynb", {"band": "r", "threshold": 11.5}),
    "photometry_bad_band": Job("photometry_band.ipynb", {"band": "x"}),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MY_S3_CREDENTIALS", raising=False)  # kernels inherit the environment
        return execute_all(JOBS, tmp_path_factory.mktemp("examples"))


def completed(run: Run) -> dict:
    assert run.error is None, f"{run.error.ename}: {run.error.evalue}"
    return run.outputs


def table_column(output: dict, name: str) -> np.ndarray:
    return np.asarray(output["columns"][name])


def test_every_example_notebook_is_executed():
    notebooks = {
        str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    }
    executed = {job.notebook for job in [*JOBS.values(), *CREDENTIAL_JOBS.values()]}
    assert notebooks == executed


def test_notebooks_follow_the_mmoda_conventions():
    for path in EXAMPLES.rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5), path
        assert notebook.metadata.kernelspec.name == "python3", path
        code_cells = [c for c in notebook.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code_cells), (
            f"{path} has stored outputs"
        )
        tags = [t for c in code_cells for t in c.metadata.get("tags", [])]
        if not path.name.startswith("test_"):
            assert tags.count("parameters") == 1 and tags.count("outputs") == 1, path


def test_lightcurve_has_nbins_rows_and_writes_its_files(runs):
    run = runs["lightcurve"]
    out = completed(run)
    lc = out["lightcurve"]
    assert lc["rows"] == 20
    assert {"time", "counts", "rate", "rate_err"} <= set(lc["colnames"])
    assert sum(table_column(lc, "counts")) > 0
    assert (run.directory / out["lightcurve_png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run.directory / out["lightcurve_table_file"]).exists()
    assert 59592 < out["peak_mjd"] < 59597  # the simulated flare, 2022-01-15


def test_lightcurve_reports_progress_like_oda_api(runs):
    report = json.loads((runs["lightcurve"].directory / "progress.json").read_text())
    assert report == {"stage": "done", "progress": 100, "progress_max": 100, "substage": None}
    assert not (runs["lightcurve_short"].directory / "progress.json").exists()


def test_lightcurve_follows_its_parameters(runs):
    lc = completed(runs["lightcurve_short"])["lightcurve"]
    assert lc["rows"] == 5
    assert np.allclose(np.diff(table_column(lc, "time")), 2.0)  # 10 days in 5 bins
    assert table_column(lc, "time_min")[0] == pytest.approx(59589.0)  # 2022-01-10


def test_test_lightcurve_notebook_passes(runs):
    completed(runs["test_lightcurve"])
    stdout = [
        o.get("text", "")
        for c in nbformat.read(runs["test_lightcurve"].output_notebook, as_version=4).cells
        for o in c.get("outputs", [])
    ]
    assert any("all checks passed" in text for text in stdout)


def test_spectrum_fit_recovers_the_simulated_index(runs):
    for key, true_index in (("spectrum_fit", 2.2), ("spectrum_fit_soft", 2.8)):
        out = completed(runs[key])
        assert 0 < out["fitted_index_error"] < 0.1
        assert abs(out["fitted_index"] - true_index) < max(4 * out["fitted_index_error"], 0.05), key
        assert f"{out['fitted_index']:.2f}" in out["comment"]
    spectrum = runs["spectrum_fit"].outputs["spectrum"]
    assert spectrum["rows"] == 12
    assert table_column(spectrum, "e_min")[0] == pytest.approx(1.0)
    assert table_column(spectrum, "e_max")[-1] == pytest.approx(100.0)
    assert (runs["spectrum_fit"].directory / runs["spectrum_fit"].outputs["spectrum_fits"]).exists()
    assert table_column(runs["spectrum_fit_soft"].outputs["spectrum"], "e_max")[-1] == pytest.approx(50.0)


def test_image_cutout_shape_follows_radius(runs):
    for key, radius in (("image_cutout", 3.0), ("image_cutout_small", 1.5)):
        run = runs[key]
        out = completed(run)
        with fits.open(run.directory / out["cutout_image"]) as hdus:
            image, header = hdus[0].data, hdus[0].header
        side = round(2 * radius / 0.1)
        assert image.shape == (side, side), key
        assert header["CTYPE1"] == "RA---TAN" and header["RADIUS"] == radius
        assert out["source_significance"] > 50  # the target is the brightest source in the field
        seps = table_column(out["sources"], "separation")
        assert seps[0] < 0.1 and np.all(seps <= radius * np.sqrt(2))
    assert (runs["image_cutout"].directory / "cutout.fits").stat().st_size < 100_000


def test_image_cutout_enforces_the_upper_limit(runs):
    error = runs["image_cutout_too_large"].error
    assert error is not None and error.ename == "RuntimeError"
    assert "upper_limit 10" in error.evalue


def test_simbad_position_falls_back_offline(runs):
    out = completed(runs["simbad_position"])
    assert out["coordinates_origin"] in {"SIMBAD", "parameters"}  # offline: parameters
    assert out["resolved_ra"] == pytest.approx(166.113808, abs=1 / 60)
    assert out["resolved_dec"] == pytest.approx(38.208833, abs=1 / 60)
    assert ("SIMBAD" in out["comment"]) and ("Mrk 421" in out["comment"])
    assert runs["simbad_position"].seconds < 30


def test_photometry_band_needs_its_s3_credentials(runs):
    error = runs["photometry_band_no_credentials"].error
    assert error is not None and error.ename == "RuntimeError"
    assert "needs MY_S3_CREDENTIALS" in error.evalue


def test_photometry_band_with_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("MY_S3_CREDENTIALS", S3_CREDENTIALS)
    results = execute_all(CREDENTIAL_JOBS, tmp_path)

    g = completed(results["photometry_g"])
    assert 10.8 < g["peak_magnitude"] < 11.3
    assert g["n_bins_brighter"] == 0 and "no magnitude threshold" in g["comment"]
    assert g["lightcurve"]["rows"] > 20
    assert np.all(np.diff(table_column(g["lightcurve"], "mjd")) > 0)
    assert "s3://survey/nightly/g/" in g["archive_query_used"]

    r = completed(results["photometry_r_threshold"])
    mags = table_column(r["lightcurve"], "mag")
    assert r["n_bins_brighter"] == int(np.sum(mags < 11.5)) > 0
    assert "brighter than 11.5 mag" in r["comment"]

    error = results["photometry_bad_band"].error
    assert error is not None and error.ename == "RuntimeError"
    assert "band must be one of 'b', 'g', 'r'" in error.evalue


def test_gaia_stars_returns_a_table_offline(runs):
    out = completed(runs["gaia_stars"])
    stars = out["star_table"]
    assert out["n_stars"] == stars["rows"] > 0
    assert {"source_id", "ra", "dec", "phot_g_mean_mag", "parallax"} <= set(stars["colnames"])
    assert np.all(table_column(stars, "phot_g_mean_mag") < 15.0)
    assert out["catalog_origin"] in {"Gaia DR3", "synthetic (Gaia unreachable)"}
    assert out["member_parallax"] == pytest.approx(7.3, abs=0.5)


def test_flux_ratio_and_its_test_notebook(runs):
    out = completed(runs["flux_ratio"])
    expected = (10**-0.7 - 30**-0.7) / (3**-0.7 - 10**-0.7)  # photon index 1.7
    assert abs(out["flux_ratio"] - expected) < 5 * out["flux_ratio_error"]
    assert -1 < out["hardness_ratio"] < 0
    saved = json.loads((runs["flux_ratio"].directory / out["results_json"]).read_text())
    assert saved["flux_ratio"] == out["flux_ratio"]
    completed(runs["test_flux_ratio"])


def test_mmoda_repository_layout():
    repo = EXAMPLES / "mmoda-repo"
    config = yaml.safe_load((repo / "mmoda.yaml").read_text())
    assert config["notebook_path"] == "notebooks"
    published = sorted(
        p.name
        for p in (repo / config["notebook_path"]).glob("*.ipynb")
        if re.match(config["filename_pattern"], p.name)
    )
    assert published == ["flux_ratio.ipynb", "gaia_stars.ipynb"]
    assert (repo / "mmoda_help_page.md").exists() and (repo / "acknowledgements.md").exists()


def test_event_list_is_reproducible(tmp_path):
    shipped = EXAMPLES / "data" / "events.fits"
    assert shipped.stat().st_size < 200_000
    regenerated = tmp_path / "events.fits"
    subprocess.run(
        [sys.executable, str(EXAMPLES / "data" / "make_events.py"), str(regenerated)],
        check=True,
        capture_output=True,
    )
    a, b = Table.read(shipped), Table.read(regenerated)
    assert a.colnames == b.colnames and len(a) == len(b)
    assert all(np.array_equal(a[c], b[c]) for c in a.colnames)
