"""Harvest throughput: `kg harvest` end to end and `harvest()` alone, on generated MMODA notebooks.

Generates N varied annotated notebooks (deterministic), then times on one core:
the real CLI in a fresh process (start-up and imports included), a second CLI run over the
unchanged tree (every graph replaced), and the in-process `harvest()` call, cold and again.
Aim: >= 300 notebooks/s. A benchmark report, not a test.

    .venv/bin/python benchmarks/harvest.py [--notebooks N] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import OBJECTS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AIM = 300.0
"""Notebooks per second on one core."""
SEED = 20261122
KG = ROOT / ".venv" / "bin" / "kg"

Rng = random.Random
Lines = list[str]

# -- notebook generation ---------------------------------------------------------------------

TOPICS = ["lightcurve", "spectrum", "image", "catalog", "photometry", "timing", "polarimetry", "sed"]
DIRECTORIES = ["lightcurves", "spectra", "imaging/optical", "imaging/xray", "catalogs", "misc/legacy/2023"]
MMODA_SHARE = 6
"""One notebook in MMODA_SHARE goes to the `mmoda.yaml` repository."""


def _isot(rng: Rng, year: int) -> str:
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00"


def _src_name(rng: Rng) -> Lines:
    obj = rng.choice(OBJECTS)
    return [
        rng.choice(
            [
                f'src_name = "{obj}"  # http://odahub.io/ontology#AstrophysicalObject',
                f'src_name = "{obj}"  # oda:AstrophysicalObject',
                f'src_name: str = "{obj}"  # oda:AstrophysicalObject; oda:label "Source name"',
            ]
        )
    ]


def _ra(rng: Rng) -> Lines:
    return [f"RA = {rng.uniform(0, 360):.6f}  # oda:PointOfInterestRA"]


def _dec(rng: Rng) -> Lines:
    return [f"DEC = {rng.uniform(-90, 90):.6f}  # oda:PointOfInterestDEC"]


def _time(name: str, edge: str, year: int, mjd_range: tuple[float, float]) -> Callable[[Rng], Lines]:
    """A T1/T2 parameter in one of the three forms notebooks use (ISOT, MJD with oda:format, MJD class)."""

    def lines(rng: Rng) -> Lines:
        mjd = rng.uniform(*mjd_range)
        return [
            rng.choice(
                [
                    f'{name} = "{_isot(rng, year)}"  # oda:{edge}TimeISOT',
                    f"{name} = {mjd:.1f}  # oda:{edge}Time ; oda:format oda:MJD",
                    f"{name} = {mjd:.3f}  # oda:{edge}TimeMJD",
                ]
            )
        ]

    return lines


def _aperture(rng: Rng) -> Lines:
    r = rng.choice([2.0, 3.0, 4.5])
    return [
        'aperture = {  # oda:String ; oda:label "Aperture photometry settings"',
        f'    "radius_arcsec": {r},',
        f'    "annulus_arcsec": [{2 * r}, {3 * r}],',
        f'    "method": "{rng.choice(["exact", "center", "subpixel"])}",',
        "}",
    ]


def _fit_options(rng: Rng) -> Lines:
    return [
        "fit_options = {  # oda:String; oda:group 'Fit'",
        f'    "model": "{rng.choice(["powerlaw", "logparabola", "cutoffpl"])}",',
        f'    "statistic": "{rng.choice(["cstat", "chi2", "wstat"])}",',
        f'    "max_iterations": {rng.randint(50, 500)},',
        "}",
    ]


def _archive_query(rng: Rng) -> Lines:
    return [
        'archive_query = """',
        "SELECT mjd, mag, mag_err FROM read_parquet('s3://{bucket}/nightly/{band}/*.parquet')",
        "WHERE object = '{src_name}' AND mjd BETWEEN {t_start} AND {t_stop}",
        f"ORDER BY mjd LIMIT {rng.randint(1000, 100000)}",
        '"""  # oda:LongString; oda:label "Archive query template"',
    ]


def _one(template: str) -> Callable[[Rng], Lines]:
    """A one-line parameter whose values come from `template.format(r=_Values(rng))`."""
    return lambda rng: [template.format(r=_Values(rng))]


_DRAWS: dict[str, Callable[[Rng], object]] = {
    "deg": lambda rng: round(rng.uniform(0.1, 5), 2),
    "small": lambda rng: round(rng.uniform(0.01, 0.5), 3),
    "gev": lambda rng: round(rng.choice([0.1, 1.0, 10.0]) * rng.randint(1, 9), 1),
    "int": lambda rng: rng.randint(2, 90),
    "big": lambda rng: rng.randint(100, 5000),
    "f": lambda rng: round(rng.uniform(1, 50), 2),
    "band": lambda rng: rng.choice("bgrizy"),
    "inst": lambda rng: rng.choice(["isgri", "jemx", "spi"]),
    "bool": lambda rng: rng.choice([True, False]),
    "seed": lambda rng: rng.randint(0, 2**31),
    "path": lambda rng: rng.choice(["data/events.fits", "data/image.fits", "inputs/catalog.ecsv"]),
}


class _Values:
    """`{r.deg}` in a template draws one value of that kind."""

    def __init__(self, rng: Rng) -> None:
        self._rng = rng

    def __getattr__(self, kind: str) -> object:
        return _DRAWS[kind](self._rng)


ONE_LINE = {
    "radius": "radius = {r.deg}  # oda:AngleDegrees; oda:upper_limit 10",
    "band": "band = \"{r.band}\"  # oda:String; oda:allowed_value 'b','g','r','i','z','y'",
    "e_min": "e_min = {r.gev}  # oda:Float; oda:GeV",
    "e_max": "e_max = {r.big}.0  # oda:Float; oda:unit unit:GeV",
    "nbins": "nbins: int = {r.int}  # oda:Integer; oda:limits 1, 100; oda:label 'Time bin'; oda:group 'Bins'",
    "threshold": "threshold: float | None = None  # oda:Float, oda:optional",
    "use_cache": "use_cache = {r.bool}",
    "n_sim": "n_sim = {r.big}  # number of simulations",
    "events": 'events = "{r.path}"  # oda:POSIXPath',
    "events_url": 'events_url = ""  # oda:FileURL; oda:description "URL of an event list to use instead"',
    "duration": "duration = {r.f}  # oda:TimeIntervalDays; oda:lower_limit 1; oda:upper_limit 365",
    "time_bin": "time_bin = {r.small}  # oda:TimeIntervalDays; oda:label 'Time bin'; oda:group \"Binning\"",
    "e_kev": "e_kev = {r.f}  # oda:Energy_keV",
    "wavelength": 'wavelength = {r.big}.0  # oda:Wavelength_nm; oda:label "Central wavelength"',
    "freq": "freq = {r.f}  # oda:FrequencyGHz",
    "max_sources": "max_sources: int = {r.big}  # oda:Integer; oda:lower_limit 1; oda:upper_limit 10000",
    "min_ts": 'min_ts = {r.f}  # oda:Float; oda:lower_limit 0; oda:description "Minimum test statistic"',
    "instrument": 'instrument = "{r.inst}"  # oda:String; oda:allowed_value "isgri", "jemx", "spi"',
    "verbose": "verbose: bool = {r.bool}  # oda:Boolean",
    "pixel_size": "pixel_size = {r.small}  # oda:AngleDegrees; oda:limits 0.001, 1",
    "distance": "distance = {r.f}  # oda:Distance_kpc",
    "seed": "seed = {r.seed}",
    "exposure": "exposure = {r.big}.0  # oda:TimeIntervalSeconds; oda:lower_limit 1",
    "coverage": "coverage = {r.f}  # oda:Percentage; oda:label 'Minimum coverage'",
    "smoothing": "smoothing: float | None = None  # oda:AngleDegrees, oda:optional; oda:group 'Image'",
}
COMMON: dict[str, Callable[[Rng], Lines]] = {
    "src_name": _src_name,
    "RA": _ra,
    "DEC": _dec,
    "T1": _time("T1", "Start", 2021, (55000, 60500)),
    "T2": _time("T2", "End", 2022, (60500, 61000)),
}
OTHER: dict[str, Callable[[Rng], Lines]] = {
    **{name: _one(template) for name, template in ONE_LINE.items()},
    "aperture": _aperture,
    "fit_options": _fit_options,
    "archive_query": _archive_query,
}
TYPO = "max_iter"
"""A parameter whose class is misspelt (a warning, not an error): a few notebooks in the wild have one."""
ALL = {**COMMON, **OTHER, TYPO: _one("max_iter = {r.int}  # oda:Integr")}

OUTPUTS = [
    "lc = table  # oda:LightCurve",
    "spectrum_out = spec  # oda:Spectrum",
    "plot = plot_file  # oda:ODAPictureProduct",
    "result_table = catalog  # oda:ODAAstropyTable",
    "comment = text  # oda:WorkflowResultComment",
    'peak = float(values.max())  # oda:Float; oda:label "Peak value"',
    "n_detected = int(mask.sum())  # oda:Integer",
    "table_file = output_path  # oda:POSIXPath",
    "image = cutout  # oda:Image",
    "summary = report  # oda:ODATextProduct; oda:label 'Summary'",
]


def _header(rng: Rng) -> Lines:
    """Notebook-level annotations: version, reference, resources."""
    lines = [f'# oda:version "v{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}"']
    if rng.random() < 0.5:
        lines.append(f'# oda:reference "https://doi.org/10.1051/0004-6361/2020{rng.randint(10000, 99999)}"')
    if rng.random() < 0.25:
        lines += [
            "# oda:usesRequiredResource oda:MyS3 .",
            "# oda:MyS3 a oda:S3 .",
            '# oda:MyS3 oda:resourceBindingEnvVarName "MY_S3_CREDENTIALS" .',
        ]
    if rng.random() < 0.1:
        lines += ["# oda:usesOptionalResource oda:MyDask .", "# oda:MyDask a oda:Dask ."]
    return [*lines, ""]


def parameters_source(rng: Rng) -> tuple[str, list[str]]:
    """The parameters cell (3-15 parameters) and the parameter names, in order."""
    commons = [n for n in COMMON if rng.random() < 0.6]
    count = rng.randint(3, 15)
    others = rng.sample(sorted(OTHER), max(0, count - len(commons)))
    names = (commons + others)[:count]
    if rng.random() < 0.03:
        names[-1] = TYPO
    lines = _header(rng)
    for name in names:
        lines += ALL[name](rng)
    return "\n".join(lines) + "\n", names


CODE = [
    """\
import json
import os
from pathlib import Path

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time
""",
    '''\
def report_progress(stage, progress, progress_max=100, substage=None):
    """Write a progress report to the MMODA callback, if there is one."""
    context_file = Path(".oda_api_context")
    if not context_file.exists():
        return
    callback = json.loads(context_file.read_text()).get("callback", "")
    if callback.startswith("file://"):
        report = {"stage": stage, "progress": progress, "substage": substage}
        Path(callback[len("file://"):]).write_text(json.dumps(report))
''',
    """\
events = Table.read("data/events.fits", hdu="EVENTS")
t_first, t_last = events["TIME"].min(), events["TIME"].max()
print(f"{len(events)} events, MJD {t_first:.2f} to {t_last:.2f}")
""",
    """\
rng = np.random.default_rng(42)
values = rng.normal(10, 2, size=500)
mask = values > np.percentile(values, 90)
print(f"{mask.sum()} values above the 90th percentile")
""",
    """\
edges = np.linspace(0, 1, 21)
counts, _ = np.histogram(values / values.max(), bins=edges)
table = Table({"time": 0.5 * (edges[:-1] + edges[1:]), "counts": counts})
table["time"].unit = u.d
output_path = "lightcurve.ecsv"
table.write(output_path, overwrite=True)
""",
    """\
energies = np.logspace(-1, 2, 30) * u.GeV
flux = 1e-11 * (energies / u.GeV).value ** -2.3
spec = Table({"energy": energies, "flux": flux})
catalog = spec[spec["flux"] > 1e-14]
""",
    """\
fig, ax = plt.subplots(figsize=(8, 4))
ax.errorbar(table["time"], table["counts"], yerr=np.sqrt(table["counts"]), fmt="o")
ax.set_xlabel("MJD")
ax.set_ylabel("counts")
plot_file = "plot.png"
fig.savefig(plot_file, dpi=100)
plt.show()
""",
    """\
cutout = np.zeros((64, 64))
yy, xx = np.mgrid[:64, :64]
cutout += np.exp(-((xx - 32) ** 2 + (yy - 32) ** 2) / 20)
text = f"peak {values.max():.2f}, {mask.sum()} bright bins"
report = text
""",
    """\
try:
    credentials = json.loads(os.environ.get("MY_S3_CREDENTIALS", "{}"))
except json.JSONDecodeError as exc:
    raise RuntimeError(f"MY_S3_CREDENTIALS is not valid JSON: {exc}") from None
""",
]
MARKDOWN = [
    "## Data selection\n\nEvents are selected in time and around the source position.",
    "## Background\n\nThe background is estimated in an annulus and scaled by area (`alpha`).",
    "## Results\n\nThe table and the plot below are the workflow's outputs.",
    "Progress is reported the way `oda_api`'s `ProgressReporter` does it.",
]


def _validation(names: list[str]) -> str:
    """A realistic check cell over the notebook's own parameters."""
    checks = [
        f'if {n} is None:\n    print("{n} not set")\n' for n in names if n in ("threshold", "smoothing")
    ]
    checks += [
        f'if not 1 <= {n} <= 100:\n    raise RuntimeError(f"{n} must be in [1, 100], got {{{n}}}")\n'
        for n in names
        if n == "nbins"
    ]
    if "T1" in names and "T2" in names:
        checks.append(
            't_start, t_stop = Time(T1, format="isot" if isinstance(T1, str) else "mjd"), '
            'Time(T2, format="isot" if isinstance(T2, str) else "mjd")\n'
        )
    return "".join(checks) or "pass\n"


def _cell(kind: str, source: str, rng: Rng, tags: tuple[str, ...] = ()) -> dict:
    cell: dict = {
        "cell_type": kind,
        "metadata": {"tags": list(tags)} if tags else {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
        if rng.random() < 0.3:
            cell["execution_count"] = rng.randint(1, 40)
            cell["outputs"].append({"name": "stdout", "output_type": "stream", "text": ["done\n"]})
        if rng.random() < 0.015:
            blob = base64.b64encode(rng.randbytes(rng.randint(8_000, 40_000))).decode()
            cell["outputs"].append(
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": blob, "text/plain": ["<Figure size 800x400>"]},
                }
            )
    return cell


def notebook(rng: Rng, title: str) -> dict:
    """One nbformat-4 notebook: markdown, parameters, code, outputs."""
    params, names = parameters_source(rng)
    cells = [
        _cell("markdown", f"# {title}\n\nA generated MMODA workflow about {rng.choice(OBJECTS)}.", rng),
        _cell("code", params, rng, ("parameters",)),
        _cell("code", CODE[0], rng),
        _cell("code", _validation(names), rng),
    ]
    for source in rng.sample(CODE[1:], rng.randint(2, len(CODE) - 1)):
        if rng.random() < 0.4:
            cells.append(_cell("markdown", rng.choice(MARKDOWN), rng))
        cells.append(_cell("code", source, rng))
    outputs = "\n".join(rng.sample(OUTPUTS, rng.randint(1, 5))) + "\n"
    cells.append(_cell("code", outputs, rng, ("outputs",)))
    metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.9"},
    }
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _place(index: int, rng: Rng, root: Path) -> Path:
    """Where notebook `index` goes: the MMODA repository's notebook_path, or a plain directory."""
    topic = TOPICS[index % len(TOPICS)]
    if index % MMODA_SHARE == 0:
        prefix = "test_" if rng.random() < 0.1 else ""
        return root / "mmoda-repo" / "notebooks" / f"{prefix}{topic}_{index:05d}.ipynb"
    return root / "workflows" / rng.choice(DIRECTORIES) / f"{topic}_{index:05d}.ipynb"


def generate(root: Path, count: int, seed: int = SEED) -> int:
    """Write `count` notebooks under `root`; returns the bytes written."""
    rng = random.Random(seed)
    repo = root / "mmoda-repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "mmoda.yaml").write_text("notebook_path: notebooks\nfilename_pattern: '^(?!test_).*\\.ipynb$'\n")
    (repo / "mmoda_help_page.md").write_text("# Generated workflows\n\nFor the harvest benchmark.\n")
    size = 0
    for index in range(count):
        path = _place(index, rng, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(notebook(rng, f"{path.stem.replace('_', ' ').title()}"), indent=1)
        path.write_text(text)
        size += len(text)
    return size


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    notebooks: int
    triples: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.notebooks / self.seconds


COUNT_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != ?ontology) }"
COUNT_WORKFLOWS = "SELECT (COUNT(DISTINCT ?wf) AS ?n) WHERE { GRAPH ?g { ?wf a oda:Workflow } }"


def store_counts(store_dir: Path) -> tuple[int, int]:
    """(workflows, triples outside the ontology graph), by SPARQL COUNT on the store."""
    from kg.iris import ONTOLOGY_GRAPH
    from kg.namespaces import SPARQL_PROLOGUE
    from kg.store import open_store

    with open_store(str(store_dir)) as store:
        workflows = int(store.select(SPARQL_PROLOGUE + COUNT_WORKFLOWS)[0]["n"].value)
        query = COUNT_TRIPLES.replace("?ontology", str(ONTOLOGY_GRAPH))
        triples = int(store.select(query)[0]["n"].value)
    return workflows, triples


def pin_prefix() -> list[str]:
    """`taskset -c 0` when available, so subprocesses run on one core."""
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def pin_self() -> bool:
    """Pin this process to CPU 0 (for the in-process timing); False when the OS cannot."""
    try:
        os.sched_setaffinity(0, {0})
    except (AttributeError, OSError):
        return False
    return True


def time_cli(notebooks: Path, store_dir: Path) -> float:
    """Seconds for `kg --store DIR harvest NOTEBOOKS` in a fresh process; fails loudly on a failed harvest."""
    command = [*pin_prefix(), str(KG), "--store", str(store_dir), "harvest", str(notebooks)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-2000:]
        raise SystemExit(f"kg harvest failed (exit {done.returncode}):\n{tail}")
    return seconds


def time_in_process(notebooks: Path, store_dir: Path) -> float:
    """Seconds for one `harvest()` call (imports done beforehand); fails loudly on notebook errors."""
    from harvesters.notebooks import harvest
    from kg.store import open_store

    with open_store(str(store_dir)) as store:
        gc.collect()
        started = time.perf_counter()
        report = harvest([notebooks], store)
        seconds = time.perf_counter() - started
    if report.failed:
        first = next((str(d) for r in report.results for d in r.errors), report.diagnostics)
        raise SystemExit(f"harvest() reported errors, first: {first}")
    return seconds


def time_startup() -> float:
    """Seconds for `kg --help`: interpreter start and the CLI's imports, no store, no work."""
    started = time.perf_counter()
    subprocess.run([*pin_prefix(), str(KG), "--help"], capture_output=True, check=True)
    return time.perf_counter() - started


def time_ontology() -> float:
    """Seconds to build the process's ontology index (once per process, before the first harvest)."""
    from kg.ontology import default_ontology

    started = time.perf_counter()
    default_ontology()
    return time.perf_counter() - started


def measured(what: str, seconds: float, store_dir: Path, expected: int) -> Row:
    workflows, triples = store_counts(store_dir)
    if workflows != expected:
        raise SystemExit(f"{what}: the store holds {workflows} workflows, expected {expected}")
    return Row(what, workflows, triples, seconds)


def print_report(rows: list[Row], pinned: str, notes: list[str]) -> None:
    print(f"harvest benchmark ({pinned}; aim >= {AIM:.0f} notebooks/s)")
    print("\n".join(notes))
    print(f"{'':34} {'notebooks':>9} {'triples':>9} {'seconds':>8} {'nb/s':>7}  aim")
    for row in rows:
        verdict = "PASS" if row.rate >= AIM else "MISS"
        numbers = f"{row.notebooks:>9} {row.triples:>9} {row.seconds:>8.2f} {row.rate:>7.0f}"
        print(f"{row.what:34} {numbers}  {verdict}")


def print_profile(notebooks: Path, store_dir: Path, top: int = 15) -> None:
    """cProfile an extra, untimed harvest() into a fresh store; the top entries by cumulative time."""
    profile = cProfile.Profile()
    profile.enable()
    time_in_process(notebooks, store_dir)
    profile.disable()
    print(f"\nharvest() profile (a separate, untimed run into a fresh store), top {top} by cumulative time:")
    pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(top)


def run(work: Path, count: int, profile: bool) -> None:
    notebooks = work / "notebooks"
    load = os.getloadavg()[0]
    started = time.perf_counter()
    size = generate(notebooks, count)
    notes = [f"generated {count} notebooks ({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"]
    pinned = "pinned to CPU 0 with taskset" if pin_prefix() else "NOT pinned: no taskset"
    pinned += f"; load average at start {load:.2f}"
    cli = work / "store-cli"
    rows = [measured("kg harvest (CLI, end to end)", time_cli(notebooks, cli), cli, count)]
    rows.append(measured("kg harvest again (CLI, unchanged)", time_cli(notebooks, cli), cli, count))
    if not pin_self():
        pinned += "; in-process NOT pinned"
    startup, ontology = time_startup(), time_ontology()
    notes.append(
        f"start-up: kg --help {startup:.2f} s; ontology index {ontology:.2f} s (outside harvest() rows)"
    )
    api = work / "store-api"
    rows.append(measured("harvest() in-process", time_in_process(notebooks, api), api, count))
    rows.append(measured("harvest() again (unchanged)", time_in_process(notebooks, api), api, count))
    print_report(rows, pinned, notes)
    if profile:
        print_profile(notebooks, work / "store-profile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=int, default=2000, help="how many notebooks (default 2000)")
    parser.add_argument(
        "--keep", type=Path, help="write notebooks and stores here (an empty or new directory)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile harvest() (an extra, untimed run)"
    )
    args = parser.parse_args()
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the directory is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.notebooks, args.profile)
    else:
        with tempfile.TemporaryDirectory(prefix="kg-bench-harvest-") as work:
            run(Path(work), args.notebooks, args.profile)


if __name__ == "__main__":
    main()
