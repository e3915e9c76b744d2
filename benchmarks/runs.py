"""Running workflows: what `kg run` adds to bare papermill, many runs at once, and a cache hit.

On a small annotated notebook (`notebooks/quick_lightcurve.ipynb`), in one run of this script:
(a) the overhead of a run (planning and validation, tracing, output capture, provenance, store writes)
over `papermill.execute_notebook` of the same notebook with the same values, in-process and as commands
(`kg run NB --force` against the `papermill` CLI), alternating, medians; (b) 20 notebooks in one
`kg run A B ... --jobs 2` against the same 20 run one after another with the `papermill` CLI; (c) a run
answered from the cache, in-process and as a command. Aims: overhead <= 15 %, batch <= 0.6x,
cache hit <= 50 ms. A benchmark report, not a test.

    .venv/bin/python benchmarks/runs.py [--reps N] [--batch N] [--batch-reps N] [--cache-reps N]
                                        [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.metadata
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import median

import papermill

from kg.runs.config import RunConfig
from kg.runs.executors import LazyExecutor
from kg.runs.jobs import Job, run_job
from kg.runs.model import Status
from kg.runs.planning import harvested_key, plan_run
from kg.runs.service import RunService
from kg.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent

KG = ROOT / ".venv" / "bin" / "kg"
PAPERMILL = ROOT / ".venv" / "bin" / "papermill"
NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "quick_lightcurve.ipynb"
WORKFLOW = NOTEBOOK.stem
"""The workflow's name once harvested (the notebook's file name)."""
OUTPUTS = ("lightcurve", "peak_day", "comment")
"""The notebook's outputs cell."""

AIM_OVERHEAD = 0.15
"""A run may take at most this much longer than bare papermill (median)."""
AIM_BATCH = 0.6
"""N runs with `--jobs 2` may take at most this share of N papermill commands in a row."""
AIM_CACHE_S = 0.050
"""Planning a run and answering it from the cache, in-process."""

GIVEN = {"src_name": "Mrk 501", "nbins": "30"}
"""The values, as `kg run -p NAME VALUE` receives them (strings, cast by the workflow's annotations)."""
PAPERMILL_VALUES = {"src_name": "Mrk 501", "nbins": 30}
"""The same values as papermill receives them (its CLI's `-p` infers the int)."""


def kg_params() -> list[str]:
    return [arg for name, value in GIVEN.items() for arg in ("-p", name, value)]


def papermill_params() -> list[str]:
    return [arg for name, value in PAPERMILL_VALUES.items() for arg in ("-p", name, str(value))]


# -- one measurement of each kind ---------------------------------------------------------------


@dataclass
class Phases:
    """Where one in-process `kg run` spent its time, in seconds."""

    plan: float
    start: float
    to_notebook: float
    notebook: float
    finish: float
    close: float


@dataclass
class Bench:
    """Where the script works: the notebooks, and a fresh store and runs directory per measurement."""

    work: Path

    @property
    def log(self) -> Path:
        """Where bare papermill's kernels write their stderr."""
        return self.work / "stderr.log"

    def path(self, name: str) -> Path:
        return self.work / name

    def env(self, runs: str) -> dict[str, str]:
        return {**os.environ, "KG_RUNS_DIR": str(self.path(runs))}


@contextmanager
def stderr_to(log: Path) -> Iterator[None]:
    """Send this process's stderr (and its kernels', which inherit it) to `log`: bare papermill's kernels
    print start-up warnings on the terminal, kg's go to each run's kernel.log."""
    sys.stderr.flush()
    saved = os.dup(2)
    with log.open("ab") as out:
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds for a fresh process, and its stdout; fails loudly when it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        shown = " ".join(command[:6]) + (" ..." if len(command) > 6 else "")
        raise SystemExit(f"{shown} failed (exit {done.returncode}):\n{(done.stderr or done.stdout)[-2000:]}")
    return seconds, done.stdout


def checked_records(stdout: str, count: int, cached: bool) -> None:
    """`kg run --json` printed `count` completed records, all (not) from the cache."""
    records = json.loads(stdout)
    records = records if isinstance(records, list) else [records]
    wrong = [r["id"] for r in records if r["status"] != "completed" or r["cached"] is not cached]
    if len(records) != count or wrong:
        raise SystemExit(f"kg run: expected {count} completed runs, cached={cached}; not so: {wrong}")


def kg_run_in_process(store: Store, config: RunConfig, target: str) -> tuple[float, Phases]:
    """One `kg run TARGET --force` as the CLI does it (a local executor opened and closed per command)."""
    gc.collect()
    t0 = time.perf_counter()
    plan = plan_run(store, harvested_key(store, target), GIVEN, config)
    t1 = time.perf_counter()
    executor = LazyExecutor("local", 1)
    service = RunService(store, config, executor)
    tracked = service.start(plan, force=True)
    submitted, t2 = time.time(), time.perf_counter()
    service.wait([tracked])
    waited, t3 = time.time(), time.perf_counter()
    executor.close()
    t4 = time.perf_counter()
    run = tracked.run
    if run.status is not Status.COMPLETED or run.execution is None:
        raise SystemExit(
            f"kg run in-process: {run.id} {run.status.value}: {run.execution and run.execution.error}"
        )
    began, ended = run.execution.started_at.timestamp(), run.execution.ended_at.timestamp()
    phases = Phases(t1 - t0, t2 - t1, began - submitted, ended - began, waited - ended, t4 - t3)
    return t4 - t0, phases


def run_job_inline(bench: Bench, index: int) -> float:
    """`run_job` called here, no executor and no store: tracing and output capture over papermill."""
    job = Job(
        notebook=str(bench.path("notebooks") / NOTEBOOK.name),
        values=dict(PAPERMILL_VALUES),
        run_dir=str(bench.path("jobs") / str(index)),
        output_names=OUTPUTS,
    )
    gc.collect()
    started = time.perf_counter()
    execution = run_job(job)
    seconds = time.perf_counter() - started
    if execution.status is not Status.COMPLETED:
        raise SystemExit(f"run_job inline failed: {execution.error}")
    return seconds


def papermill_in_process(bench: Bench, index: int) -> float:
    output = bench.path("papermill") / f"in-process-{index}.ipynb"
    gc.collect()
    started = time.perf_counter()
    with stderr_to(bench.log):
        papermill.execute_notebook(
            str(bench.path("notebooks") / NOTEBOOK.name),
            str(output),
            parameters=dict(PAPERMILL_VALUES),
            kernel_name="python3",
            progress_bar=False,
        )
    return time.perf_counter() - started


def cache_hit_in_process(store: Store, config: RunConfig, target: str) -> tuple[float, float]:
    """(seconds to plan, seconds to start) a run the cache answers; fails loudly on a miss."""
    executor = LazyExecutor("local", 1)
    gc.collect()
    t0 = time.perf_counter()
    plan = plan_run(store, harvested_key(store, target), GIVEN, config)
    t1 = time.perf_counter()
    tracked = RunService(store, config, executor).start(plan)
    t2 = time.perf_counter()
    executor.close()
    if not tracked.cached:
        raise SystemExit(f"cache hit in-process: {target} was not answered from the cache")
    return t1 - t0, t2 - t1


# -- the measurements ---------------------------------------------------------------------------


@dataclass
class Result:
    what: str
    kg: float
    reference: float | None
    """The reference's seconds (None for an absolute aim)."""
    aim: str
    ok: bool | None
    """None: reported, not judged."""
    shown: str
    """The quantity judged: overhead, ratio or time."""


def runs_of(values: list[float], unit: float = 1.0, digits: int = 2) -> str:
    return ", ".join(f"{v * unit:.{digits}f}" for v in values)


def alternate(reps: int, measures: dict[str, Callable[[int], float]]) -> dict[str, list[float]]:
    """Each measure `reps` times, taking turns, the first of each turn rotating."""
    times: dict[str, list[float]] = {name: [] for name in measures}
    names = list(measures)
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            times[name].append(measures[name](rep))
    return times


def overhead_in_process(bench: Bench, reps: int, profile: bool) -> Result:
    """(a) in-process: plan_run + RunService.start + wait against papermill.execute_notebook."""
    print("\n(a) overhead over papermill, in-process (same notebook and values, --force, alternating)")
    target = str(bench.path("notebooks") / NOTEBOOK.name)
    config = RunConfig(runs_dir=bench.path("runs-api"))
    with open_store(str(bench.path("store-api"))) as store:
        first_kg, _ = kg_run_in_process(store, config, target)
        first_pm = papermill_in_process(bench, -1)
        first_job = run_job_inline(bench, -1)
        print(
            f"  first in this process (untimed warm-up: first kernel environment, "
            f"harvest into the fresh store): kg {first_kg:.2f} s, papermill {first_pm:.2f} s, "
            f"run_job inline {first_job:.2f} s"
        )
        phases: list[Phases] = []

        def kg(_: int) -> float:
            seconds, phase = kg_run_in_process(store, config, target)
            phases.append(phase)
            return seconds

        times = alternate(
            reps,
            {
                "kg": kg,
                "papermill": lambda i: papermill_in_process(bench, i),
                "run_job": lambda i: run_job_inline(bench, i),
            },
        )
    kg_s, pm_s, job_s = (median(times[n]) for n in ("kg", "papermill", "run_job"))
    print(f"  {'':44} {'median':>8}   runs (s)")
    print(f"  {'kg: plan_run + start + wait (local, --force)':44} {kg_s:>7.3f}s   {runs_of(times['kg'])}")
    print(f"  {'papermill.execute_notebook':44} {pm_s:>7.3f}s   {runs_of(times['papermill'])}")
    print(f"  {'run_job() inline (no executor, no store)':44} {job_s:>7.3f}s   {runs_of(times['run_job'])}")
    print_phases(phases, pm_s)
    if profile:
        print_profile(lambda: run_job_inline(bench, reps), "run_job() inline, the job's own work")
    return judged_overhead("(a) overhead, in-process", kg_s, pm_s)


def print_phases(phases: list[Phases], papermill_s: float) -> None:
    print("  where kg's time goes (medians over the timed runs):")
    rows = [
        ("plan_run (harvest the path, look up, validate, key)", [p.plan for p in phases]),
        ("start (write planned, open the executor, submit)", [p.start for p in phases]),
        ("submitted -> notebook starts (job set-up)", [p.to_notebook for p in phases]),
        ("notebook (papermill, capture cell, outputs)", [p.notebook for p in phases]),
        ("notebook done -> wait returns (result, writes)", [p.finish for p in phases]),
        ("close the executor", [p.close for p in phases]),
    ]
    for what, values in rows:
        print(f"    {what:54} {median(values) * 1000:>7.0f} ms")
    print(f"    {'(bare papermill, for comparison)':54} {papermill_s * 1000:>7.0f} ms")


def judged_overhead(what: str, kg_s: float, pm_s: float) -> Result:
    overhead = kg_s / pm_s - 1
    ok = overhead <= AIM_OVERHEAD
    shown = f"{overhead * 100:+.0f} %"
    print(f"  overhead {shown} (kg {kg_s:.3f} s / papermill {pm_s:.3f} s)  aim <= 15 %  {verdict(ok)}")
    return Result(what, kg_s, pm_s, "<= +15 %", ok, shown)


def startup(command: Path) -> float:
    """Median seconds of 3 `COMMAND --help`: interpreter start and the command's imports, no work."""
    return median([timed([str(command), "--help"])[0] for _ in range(3)])


def overhead_cli(bench: Bench, reps: int, kg_startup: float) -> Result:
    """(a) as commands: `kg run NB --force` against `papermill NB OUT`, alternating."""
    print("\n(a) overhead over papermill, as commands (fresh processes, alternating)")
    notebook = str(bench.path("notebooks") / NOTEBOOK.name)
    env = bench.env("runs-cli")
    kg_command = [str(KG), "--store", str(bench.path("store-cli")), "run", notebook, *kg_params()]
    kg_command += ["--force", "--json"]

    def kg(_: int) -> float:
        seconds, stdout = timed(kg_command, env)
        checked_records(stdout, 1, cached=False)
        return seconds

    def pm(index: int) -> float:
        output = bench.path("papermill") / f"cli-{index}.ipynb"
        return timed([str(PAPERMILL), notebook, str(output), *papermill_params(), "--no-progress-bar"])[0]

    first_kg, first_pm = kg(-1), pm(-1)
    print(
        f"  first (untimed warm-up; kg harvests into its fresh store): kg {first_kg:.2f} s, "
        f"papermill {first_pm:.2f} s"
    )
    times = alternate(reps, {"kg": kg, "papermill": pm})
    kg_s, pm_s = median(times["kg"]), median(times["papermill"])
    print(f"  {'':44} {'median':>8}   runs (s)")
    print(f"  {'kg run NB --force --json':44} {kg_s:>7.3f}s   {runs_of(times['kg'])}")
    print(f"  {'papermill NB OUT':44} {pm_s:>7.3f}s   {runs_of(times['papermill'])}")
    papermill_startup = startup(PAPERMILL)
    print(
        f"  start-up alone (`--help`, median of 3): kg {kg_startup:.3f} s, "
        f"papermill {papermill_startup:.3f} s"
    )
    return judged_overhead("(a) overhead, commands", kg_s, pm_s)


def batch(bench: Bench, count: int, reps: int) -> Result:
    """(b) `count` notebooks in one `kg run ... --jobs 2` against `count` papermill commands in a row."""
    print(
        f"\n(b) {count} notebooks: one `kg run A B ... --jobs 2 --force` against {count} papermill "
        "commands in a row"
    )
    notebooks = bench.path("batch")
    notebooks.mkdir()
    names = [f"{WORKFLOW}_{n:02d}" for n in range(1, count + 1)]
    for name in names:
        shutil.copyfile(NOTEBOOK, notebooks / f"{name}.ipynb")
    store = str(bench.path("store-batch"))
    harvested, _ = timed([str(KG), "--store", store, "harvest", str(notebooks)])
    print(f"  {count} copies harvested into a fresh store in {harvested:.2f} s (not timed below)")
    env = bench.env("runs-batch")
    kg_command = [str(KG), "--store", store, "run", *names, *kg_params(), "--jobs", "2", "--force", "--json"]

    def kg(_: int) -> float:
        seconds, stdout = timed(kg_command, env)
        checked_records(stdout, count, cached=False)
        return seconds

    def pm(rep: int) -> float:
        started = time.perf_counter()
        for name in names:
            output = bench.path("papermill") / f"batch-{rep}-{name}.ipynb"
            notebook = str(notebooks / f"{name}.ipynb")
            timed([str(PAPERMILL), notebook, str(output), *papermill_params(), "--no-progress-bar"])
        return time.perf_counter() - started

    times = alternate(reps, {"kg": kg, "papermill": pm})
    kg_s, pm_s = median(times["kg"]), median(times["papermill"])
    ratio = kg_s / pm_s
    print(f"  {'':44} {'median':>8}   runs (s)")
    print(f"  {f'kg run ({count} targets) --jobs 2':44} {kg_s:>7.2f}s   {runs_of(times['kg'])}")
    print(f"  {f'papermill x {count}, one after another':44} {pm_s:>7.2f}s   {runs_of(times['papermill'])}")
    ok = ratio <= AIM_BATCH
    print(
        f"  ratio kg/papermill {ratio:.2f} ({count / kg_s:.2f} vs {count / pm_s:.2f} runs/s)  "
        f"aim <= {AIM_BATCH}  {verdict(ok)}"
    )
    return Result(f"(b) {count} runs, --jobs 2", kg_s, pm_s, f"<= {AIM_BATCH}x", ok, f"{ratio:.2f}x")


def cache_hits(bench: Bench, reps: int, kg_startup: float) -> list[Result]:
    """(c) a run the cache answers: plan_run + RunService.start in-process, and `kg run` as a command."""
    print(
        f"\n(c) a run answered from the cache (the values of (a), which completed there; {reps} times each)"
    )
    config = RunConfig(runs_dir=bench.path("runs-api"))
    path = str(bench.path("notebooks") / NOTEBOOK.name)
    rows = {}
    with open_store(str(bench.path("store-api"))) as store:
        for label, target in (("by name", WORKFLOW), ("by notebook path", path)):
            rows[label] = [cache_hit_in_process(store, config, target) for _ in range(reps)]
    print(f"  {'in-process':44} {'plan_run':>9} {'start':>8} {'total':>8}   totals (ms)")
    for label, pairs in rows.items():
        totals = [plan + start for plan, start in pairs]
        plan, start = median([p for p, _ in pairs]), median([s for _, s in pairs])
        print(
            f"  {f'plan_run + RunService.start, {label}':44} {plan * 1000:>7.1f}ms {start * 1000:>6.1f}ms "
            f"{median(totals) * 1000:>6.1f}ms   {runs_of(totals, 1000, 1)}"
        )
    hit = median([plan + start for plan, start in rows["by name"]])
    ok = hit <= AIM_CACHE_S
    print(f"  cache hit by name {hit * 1000:.1f} ms  aim <= {AIM_CACHE_S * 1000:.0f} ms  {verdict(ok)}")

    command = [str(KG), "--store", str(bench.path("store-cli")), "run", WORKFLOW, *kg_params(), "--json"]
    env = bench.env("runs-cli")

    def cli() -> float:
        seconds, stdout = timed(command, env)
        checked_records(stdout, 1, cached=True)
        return seconds

    cli()  # warm-up
    cli_times = [cli() for _ in range(reps)]
    cli_s = median(cli_times)
    print(f"  {'kg run NAME --json (command, cached)':44} {cli_s:>7.3f}s   {runs_of(cli_times)}")
    print(
        f"  the command's time is mostly interpreter start-up and imports: `kg --help` alone takes "
        f"{kg_startup:.3f} s"
    )
    return [
        Result("(c) cache hit, in-process", hit, None, "<= 50 ms", ok, f"{hit * 1000:.1f} ms"),
        Result("(c) cache hit, command", cli_s, None, "reported", None, f"{cli_s:.2f} s"),
    ]


# -- report -------------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else "PASS" if ok else "MISS"


def print_profile(call: Callable[[], object], what: str, top: int = 20) -> None:
    """cProfile an extra, untimed call: kg's own functions (and papermill's entry point, for scale)
    by cumulative time."""
    profile = cProfile.Profile()
    profile.enable()
    call()
    profile.disable()
    print(f"\n  profile of {what} (an extra, untimed call), kg's functions by cumulative time:")
    stats = pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative")
    stats.print_stats(r"/kg/runs/|papermill/execute\.py", top)


def print_summary(results: list[Result]) -> None:
    print("\nsummary")
    print(f"  {'measurement':30} {'kg':>9} {'reference':>10} {'figure':>9}  {'aim':10} verdict")
    for r in results:
        kg = f"{r.kg * 1000:.1f} ms" if r.kg < 0.1 else f"{r.kg:.2f} s"
        reference = "" if r.reference is None else f"{r.reference:.2f} s"
        print(f"  {r.what:30} {kg:>9} {reference:>10} {r.shown:>9}  {r.aim:10} {verdict(r.ok)}")


def header(reps: int, count: int, batch_reps: int, cache_reps: int) -> None:
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("papermill", "nbclient", "ipykernel", "pyoxigraph")
    )
    print(
        f"runs benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {versions}; not pinned"
    )
    print(f"load average at start {os.getloadavg()[0]:.2f}; notebook {NOTEBOOK.name}, values {GIVEN}")
    print(f"repetitions: (a) {reps} each, (b) {batch_reps} each of {count} notebooks, (c) {cache_reps} each")


def run(work: Path, reps: int, count: int, batch_reps: int, cache_reps: int, profile: bool) -> None:
    bench = Bench(work)
    for directory in ("notebooks", "papermill", "jobs"):
        bench.path(directory).mkdir()
    shutil.copyfile(NOTEBOOK, bench.path("notebooks") / NOTEBOOK.name)
    header(reps, count, batch_reps, cache_reps)
    started = time.perf_counter()
    results = [overhead_in_process(bench, reps, profile)]
    kg_startup = startup(KG)
    results.append(overhead_cli(bench, reps, kg_startup))
    results.append(batch(bench, count, batch_reps))
    results += cache_hits(bench, cache_reps, kg_startup)
    print_summary(results)
    print(f"took {time.perf_counter() - started:.0f} s; load average at the end {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=8, help="repetitions of each (a) variant (default 8)")
    parser.add_argument("--batch", type=int, default=20, help="notebooks in (b) (default 20)")
    parser.add_argument("--batch-reps", type=int, default=2, help="repetitions of (b) (default 2)")
    parser.add_argument("--cache-reps", type=int, default=20, help="repetitions of (c) (default 20)")
    parser.add_argument("--keep", type=Path, help="work here (an empty or new directory) and leave it")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile run_job() inline (an extra, untimed run)"
    )
    args = parser.parse_args()
    if min(args.reps, args.batch, args.batch_reps, args.cache_reps) < 1:
        parser.error("--reps, --batch, --batch-reps and --cache-reps must be at least 1")
    options = (args.reps, args.batch, args.batch_reps, args.cache_reps, args.profile)
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the directory is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep.resolve(), *options)
    else:
        with tempfile.TemporaryDirectory(prefix="kg-bench-runs-") as work:
            run(Path(work), *options)


if __name__ == "__main__":
    main()
