"""Bulk import: `kg import FILE` against raw pyoxigraph `bulk_load` on ~1M workflow/run triples.

Generates realistic N-Triples once (deterministic), then loads the file into fresh stores,
alternating the two, REPEATS times each, both as fresh processes so both pay start-up.
Aim: kg's median time at most 1.2x raw bulk_load's. A benchmark report, not a test.

    .venv/bin/python benchmarks/ingest.py [--triples N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph
from common import OBJECTS

ROOT = Path(__file__).resolve().parent.parent
KG = ROOT / ".venv" / "bin" / "kg"
AIM = 1.2
"""kg import may take at most this many times raw bulk_load's time."""
REPEATS = 3
SEED = 20261122
EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
RAW_LOAD = (
    "import sys, pyoxigraph; "
    "pyoxigraph.Store(sys.argv[1]).bulk_load(path=sys.argv[2], format=pyoxigraph.RdfFormat.N_TRIPLES)"
)

BASE = "https://w3id.org/oda-kg/"
ODA = "http://odahub.io/ontology#"
KGV = "https://w3id.org/oda-kg#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
STATUSES = ["CompletedActionStatus"] * 6 + [
    "FailedActionStatus",
    "PotentialActionStatus",
    "ActiveActionStatus",
]
CLASSES = [
    "AngleDegrees",
    "Float",
    "Integer",
    "String",
    "PointOfInterestRA",
    "PointOfInterestDEC",
    "StartTimeISOT",
    "EndTimeISOT",
    "Energy_GeV",
    "TimeIntervalDays",
    "POSIXPath",
    "Boolean",
]


# -- N-Triples terms --------------------------------------------------------------------------


def iri(value: str) -> str:
    return f"<{value}>"


def text(value: str, lang: str | None = None) -> str:
    """A string literal with N-Triples escapes (backslash, quote, newline, tab, carriage return)."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def _interval(rng: random.Random) -> tuple[str, str]:
    """A run's start and end as xsd:dateTime lexical forms, seconds to an hour apart."""
    start = EPOCH + timedelta(seconds=rng.randrange(7 * 365 * 86400))
    end = start + timedelta(seconds=rng.randint(2, 3600), microseconds=rng.randrange(10**6))
    return start.isoformat().replace("+00:00", "Z"), end.isoformat().replace("+00:00", "Z")


# -- entities ---------------------------------------------------------------------------------


def workflow(rng: random.Random, index: int) -> Iterator[str]:
    """A harvested workflow with 3-15 parameters and 1-4 outputs."""
    wf = iri(f"{BASE}workflow/wf{index}")
    yield from (
        f"{wf} {TYPE} {iri(c)} ." for c in (ODA + "Workflow", PROV + "Plan", SCHEMA + "SoftwareSourceCode")
    )
    yield f"{wf} {iri(SCHEMA + 'name')} {text(f'analysis_{index}')} ."
    yield f"{wf} {iri(KGV + 'notebookPath')} {text(f'notebooks/analysis_{index}.ipynb')} ."
    repository = iri(f"https://gitlab.renkulab.io/astro/repo{index % 40}")
    yield f"{wf} {iri(SCHEMA + 'codeRepository')} {repository} ."
    yield f"{wf} {iri(KGV + 'contentHash')} {text('sha256:' + rng.randbytes(32).hex())} ."
    yield f"{wf} {iri(KGV + 'isTest')} {typed('false', 'boolean')} ."
    yield f"{wf} {iri(ODA + 'version')} {text(f'v{rng.randint(0, 3)}.{rng.randint(0, 20)}')} ."
    for position in range(rng.randint(3, 15)):
        yield from parameter(rng, wf, position)
    for number in range(rng.randint(1, 4)):
        out = iri(f"{BASE}workflow/wf{index}/output/out{number}")
        yield f"{wf} {iri(KGV + 'hasOutput')} {out} ."
        yield f"{out} {TYPE} {iri(KGV + 'Output')} ."
        yield f"{out} {TYPE} {iri(ODA + rng.choice(['LightCurve', 'Spectrum', 'ODAPictureProduct']))} ."
        yield f"{out} {iri(SCHEMA + 'name')} {text(f'out{number}')} ."
        if number == 0 and rng.random() < 0.2:  # a raw \\uXXXX escape, as some serialisers write them
            yield f'{out} {iri(SCHEMA + "description")} "Flux density in \\u00b5Jy" .'


def parameter(rng: random.Random, wf: str, position: int) -> Iterator[str]:
    p = iri(f"{wf[1:-1]}/parameter/p{position}")
    yield f"{wf} {iri(KGV + 'hasParameter')} {p} ."
    yield f"{p} {TYPE} {iri(KGV + 'Parameter')} ."
    yield f"{p} {TYPE} {iri(ODA + rng.choice(CLASSES))} ."
    yield f"{p} {iri(SCHEMA + 'name')} {text(f'p{position}')} ."
    yield f"{p} {iri(KGV + 'position')} {typed(position, 'integer')} ."
    kind = rng.random()
    if kind < 0.4:
        yield f"{p} {iri(SCHEMA + 'defaultValue')} {typed(repr(rng.uniform(-90, 360)), 'double')} ."
        yield f"{p} {iri(ODA + 'upper_limit')} {typed(rng.randint(10, 1000), 'integer')} ."
    elif kind < 0.7:
        yield f"{p} {iri(SCHEMA + 'defaultValue')} {typed(rng.randint(1, 100), 'integer')} ."
    else:
        yield f"{p} {iri(SCHEMA + 'defaultValue')} {text(rng.choice(OBJECTS))} ."
    if rng.random() < 0.3:
        label = rng.choice(
            ['Time bin "width"', "Extraction radius (deg)", "Énergie minimale", "Band\tfilter"]
        )
        yield f"{p} {iri(ODA + 'label')} {text(label, 'en' if rng.random() < 0.5 else None)} ."
    yield f"{p} {iri(KGV + 'annotation')} {text(f'oda:Float; oda:label {position!r}')} ."


def run(rng: random.Random, index: int, workflows: int) -> Iterator[str]:
    """A run: status, times, parameter values (blank nodes), outputs, astroquery calls."""
    r = iri(f"{BASE}run/r{index}")
    wf = iri(f"{BASE}workflow/wf{rng.randrange(workflows)}")
    yield from (f"{r} {TYPE} {iri(c)} ." for c in (KGV + "Run", PROV + "Activity", SCHEMA + "CreateAction"))
    yield f"{r} {iri(PROV + 'hadPlan')} {wf} ."
    yield f"{r} {iri(SCHEMA + 'instrument')} {wf} ."
    started, ended = _interval(rng)
    yield f"{r} {iri(PROV + 'startedAtTime')} {typed(started, 'dateTime')} ."
    yield f"{r} {iri(PROV + 'endedAtTime')} {typed(ended, 'dateTime')} ."
    status = rng.choice(STATUSES)
    yield f"{r} {iri(SCHEMA + 'actionStatus')} {iri(SCHEMA + status)} ."
    if status == "FailedActionStatus":
        message = f'RuntimeError: T2 ("2022-01-{rng.randint(1, 28):02d}") must be later than T1\nat cell 4\\5'
        yield f"{r} {iri(SCHEMA + 'error')} {text(message)} ."
    yield f"{r} {iri(KGV + 'environment')} {text('python 3.11.9; astropy 7.1.0; numpy 2.2.6')} ."
    yield f"{r} {iri(PROV + 'used')} {iri(BASE + 'object/' + str(rng.randrange(len(OBJECTS))))} ."
    for number in range(rng.randint(2, 8)):
        value = f"_:r{index}v{number}"
        yield f"{r} {iri(KGV + 'parameterValue')} {value} ."
        yield f"{value} {iri(SCHEMA + 'name')} {text(f'p{number}')} ."
        yield f"{value} {iri(SCHEMA + 'value')} {typed(repr(round(rng.uniform(0, 100), 4)), 'double')} ."
    out = iri(f"{BASE}run/r{index}/output/lc")
    yield f"{r} {iri(PROV + 'generated')} {out} ."
    yield f"{out} {TYPE} {iri(PROV + 'Entity')} ."
    yield f"{out} {TYPE} {iri(KGV + 'OutputValue')} ."
    yield f"{out} {iri(KGV + 'valueHash')} {text('sha256:' + rng.randbytes(32).hex())} ."
    if rng.random() < 0.3:
        yield from call(rng, r, index)


def call(rng: random.Random, run_iri: str, index: int) -> Iterator[str]:
    c = iri(f"{BASE}call/c{index}")
    name = rng.choice(OBJECTS)
    yield f"{run_iri} {iri(KGV + 'madeCall')} {c} ."
    yield f"{c} {TYPE} {iri(KGV + 'AstroqueryCall')} ."
    yield f"{c} {iri(ODA + 'isUsing')} {iri(BASE + 'module/SimbadClass')} ."
    yield f"{c} {iri(KGV + 'method')} {text('query_object')} ."
    arguments = json.dumps({"object_name": name, "wildcard": False})
    yield f"{c} {iri(KGV + 'arguments')} {text(arguments)} ."
    yield f"{c} {iri(KGV + 'outcome')} {text(rng.choice(['ok', 'ok', 'error']))} ."


def objects() -> Iterator[str]:
    for number, name in enumerate(OBJECTS):
        obj = iri(f"{BASE}object/{number}")
        yield f"{obj} {TYPE} {iri(ODA + 'AstrophysicalObject')} ."
        yield f"{obj} {iri(SCHEMA + 'name')} {text(name)} ."


def generate(path: Path, target: int, seed: int = SEED) -> int:
    """Write about `target` distinct triples to `path`; returns how many."""
    rng = random.Random(seed)
    workflows = max(1, target // 700)
    lines = [*objects()]
    for index in range(workflows):
        lines += workflow(rng, index)
    index = 0
    while len(lines) < target:
        lines += run(rng, index, workflows)
        index += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


# -- measuring --------------------------------------------------------------------------------


def timed(command: list[str]) -> float:
    """Seconds for a fresh process; fails loudly when it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def stored(store_dir: Path) -> int:
    """Quads in a store (the subprocess has exited, so the directory is free)."""
    store = pyoxigraph.Store(str(store_dir))
    count = len(store)
    del store
    return count


def load_once(which: str, data: Path, work: Path) -> tuple[float, int]:
    """Load `data` into a fresh store with `kg import` or raw bulk_load: (seconds, triples stored)."""
    store_dir = Path(tempfile.mkdtemp(prefix=f"{which}-", dir=work))
    if which == "kg":
        command = [str(KG), "--store", str(store_dir), "import", str(data)]
    else:
        command = [sys.executable, "-c", RAW_LOAD, str(store_dir), str(data)]
    seconds = timed(command)
    count = stored(store_dir)
    shutil.rmtree(store_dir)
    return seconds, count


def report(triples: int, generation: float, size: int, times: dict[str, list[float]], load: float) -> None:
    kg, raw = statistics.median(times["kg"]), statistics.median(times["raw"])
    print(f"ingest benchmark (not pinned, {os.cpu_count()} cores, load average at start {load:.2f})")
    print(f"generated {triples} triples of N-Triples ({size / 1e6:.0f} MB) in {generation:.1f} s")
    print(f"{'':34} {'seconds':>8} {'triples/s':>10}   runs (s), fresh store each")
    for name, label, median in (
        ("kg", "kg import (CLI, end to end)", kg),
        ("raw", "raw bulk_load (python -c)", raw),
    ):
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{label:34} {median:>8.2f} {triples / median:>10.0f}   {runs}")
    print(f"every store checked afterwards: {triples} triples in each, as in the file")
    verdict = "PASS" if kg / raw <= AIM else "MISS"
    print(f"ratio kg/raw {kg / raw:.2f}  (aim <= {AIM})  {verdict}")


def measure(data: Path, triples: int, work: Path) -> dict[str, list[float]]:
    """Seconds per load, alternating kg and raw; every store must hold exactly the file's triples."""
    times: dict[str, list[float]] = {"kg": [], "raw": []}
    for _ in range(REPEATS):
        for which in times:
            seconds, count = load_once(which, data, work)
            if count != triples:
                raise SystemExit(f"{which}: the store holds {count} triples, the file has {triples}")
            times[which].append(seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="about how many (default 1,000,000)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kg-bench-ingest-") as tmp:
        work = Path(tmp)
        data = work / "runs.nt"
        started = time.perf_counter()
        triples = generate(data, args.triples)
        generation = time.perf_counter() - started
        times = measure(data, triples, work)
        report(triples, generation, data.stat().st_size, times, load)


if __name__ == "__main__":
    main()
