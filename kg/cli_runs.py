"""`kg run`, `kg runs` and `kg run show`: running workflows and reading their records.

`kg run` exits 0 when every run completed (or was answered from the cache), 1 when one
failed (its message printed), 2 when the values, the workflow or the configuration were
wrong and nothing ran.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg.cli_common import Context, console, errors, fails_cleanly
from kg.runs.config import ConfigError, RunConfig
from kg.runs.executors import ExecutorError, LazyExecutor
from kg.runs.model import Status
from kg.runs.planning import Plan, harvested_key, plan_run
from kg.runs.records import RunNotFound, list_runs, mark_dead_runs, show_run
from kg.runs.service import RunService, Tracked
from kg.store import Store
from kg.workflows import AmbiguousWorkflow, WorkflowNotFound


class RunGroup(click.Group):
    """`kg run show RUN` is a subcommand; any other first word is a workflow to run."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group("run", cls=RunGroup, context_settings={"help_option_names": ["-h", "--help"]})
def run_group() -> None:
    """Run workflows: `kg run WORKFLOW|NOTEBOOK... [-p NAME VALUE]...`, or `kg run show RUN`.

    A workflow is named as `kg workflows` lists it (name, notebook path or IRI); a notebook
    file is harvested first. Values are validated against the workflow's annotations before
    anything runs; RA, DEC, T1, T2 and src_name are accepted for the notebook's own names.
    An identical earlier run (same notebook, values and environment) answers from the cache
    unless --force. Options go after the workflows: `kg run lightcurve -p nbins 30 --json`.
    """


@run_group.command("start", hidden=True)
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE", help="A parameter value."
)
@click.option("--force", is_flag=True, help="Run even when an identical run is cached.")
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Runs at once (local)."
)
@click.option(
    "--executor",
    default="local",
    envvar="KG_EXECUTOR",
    show_default=True,
    help="`local` (kernels on this machine) or `dask://HOST:PORT` (a Dask scheduler). Env: KG_EXECUTOR.",
)
@click.option("--allow-file-urls", is_flag=True, help="Let oda:FileURL parameters name URLs to fetch.")
@click.option("--json", "as_json", is_flag=True, help="Print each run's record as JSON.")
@click.pass_obj
@fails_cleanly
def run_start(
    obj: Context,
    targets: tuple[str, ...],
    params: tuple[tuple[str, str], ...],
    force: bool,
    jobs: int,
    executor: str,
    allow_file_urls: bool,
    as_json: bool,
) -> None:
    try:
        config = RunConfig.from_env(obj.location)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if allow_file_urls:
        config = replace(config, allow_file_urls=True)
    given = dict(params)
    with obj.store() as store:
        _note_dead_runs(store)
        plans = _plans(store, targets, given, config)
        tracked = _execute(store, config, plans, force=force, executor=executor, jobs=jobs, quiet=as_json)
        records = [{**show_run(store, t.run.id), "cached": t.cached} for t in tracked]
    if as_json:
        click.echo(json.dumps(records if len(records) > 1 else records[0], indent=2))
    else:
        for record in records:
            _print_outcome(record)
    sys.exit(0 if all(r["status"] == Status.COMPLETED for r in records) else 1)


def _plans(store: Store, targets: tuple[str, ...], given: dict[str, str], config: RunConfig) -> list[Plan]:
    """Every target planned, or exit 2 with every problem of every target: nothing runs then."""
    plans, problems = [], []
    for target in targets:
        try:
            plans.append(plan_run(store, harvested_key(store, target), given, config))
        except (WorkflowNotFound, AmbiguousWorkflow, ValueError) as exc:
            problems.append(str(exc))
    if problems:
        for problem in problems:
            errors.print(f"[red]error:[/red] {problem}", highlight=False, soft_wrap=True)
        sys.exit(2)
    return plans


def _execute(
    store: Store, config: RunConfig, plans: list[Plan], *, force: bool, executor: str, jobs: int, quiet: bool
) -> list[Tracked]:
    """Start every plan (the executor opened only if one is not cached) and follow them to the end."""
    try:
        opened = LazyExecutor(executor, jobs)
    except ExecutorError as exc:
        raise click.UsageError(str(exc)) from exc
    with _progress(quiet) as progress:
        service = RunService(store, config, opened)
        tracked = [service.start(plan, force=force) for plan in plans]
        tasks = {
            t.run.id: progress.add_task(t.run.id, total=None, stage="planned")
            for t in tracked
            if not t.cached
        }
        try:
            service.wait(tracked, lambda t: _show_progress(progress, tasks[t.run.id], t))
        finally:
            opened.close()
    return tracked


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=errors,
        disable=quiet,
        transient=False,
    )
    with progress:
        yield progress


def _show_progress(progress: Progress, task: TaskID, t: Tracked) -> None:
    report = t.run.progress or {}
    stage = str(report.get("stage") or t.run.status.value)
    if t.finished:
        progress.update(task, total=1, completed=1, stage=t.run.status.value)
    elif "progress" in report:
        progress.update(
            task, total=report.get("progress_max") or 100, completed=report["progress"], stage=stage
        )
    else:
        progress.update(task, stage=stage)


def _note_dead_runs(store: Store) -> None:
    for run_id in mark_dead_runs(store):
        errors.print(
            f"[yellow]note:[/yellow] run {run_id} was left active by a process that died; marked failed",
            soft_wrap=True,
        )


def _print_outcome(record: dict) -> None:
    status = record["status"]
    colour = {"completed": "green", "failed": "red"}.get(status, "yellow")
    cached = " (from the cache: an identical earlier run)" if record.get("cached") else ""
    console.print(f"[bold]{record['id']}[/bold] {record['workflow']}: [{colour}]{status}[/{colour}]{cached}")
    if record["error"]:
        console.print(f"  {record['error']}", highlight=False, markup=False)
    for output in record["outputs"]:
        shown = output.get("file") or json.dumps(output.get("value"))
        console.print(f"  {output['name']} = {_short(str(shown))}", highlight=False, markup=False)


def _short(text: str, most: int = 100) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


@run_group.command("show")
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print the run's record as JSON (shape in the README).")
@click.pass_obj
@fails_cleanly
def run_show(obj: Context, run_id: str, as_json: bool) -> None:
    """Show one run: status, values, outputs, error, astroquery calls, environment."""
    with obj.store() as store:
        _note_dead_runs(store)
        try:
            record = show_run(store, run_id)
        except RunNotFound as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(record, indent=2))
        return
    _print_outcome(record)
    console.print(
        f"  started {record['started_at']}, ended {record['ended_at']}, notebook {record['notebook']}"
    )
    for name, value in record["values"].items():
        console.print(f"  -p {name} {json.dumps(value)}", highlight=False, markup=False)
    for call in record["calls"]:
        console.print(
            f"  astroquery {call.get('module')}.{call.get('method')}: {call.get('outcome')}",
            highlight=False,
            markup=False,
        )
    if record["executed_notebook"]:
        console.print(f"  executed notebook: {record['executed_notebook']}")


@click.command("runs")
@click.option("--workflow", help="Only the runs of this workflow (name or IRI).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@fails_cleanly
def runs_command(obj: Context, workflow: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    with obj.store() as store:
        _note_dead_runs(store)
        rows = list_runs(store, workflow)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("run", "workflow", "status", "started", "ended", "error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["workflow"]),
            str(row["status"]),
            str(row["started_at"] or ""),
            str(row["ended_at"] or ""),
            _short(str(row["error"] or ""), 60),
        )
    console.print(table)
