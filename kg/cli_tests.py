"""`kg test-notebooks`: run every notebook under some paths as a test, and report PASS or FAIL.

Exits 0 when every notebook passed, 1 when one failed, 2 when the command was wrong (a path that
is neither a directory nor a notebook, a bad run configuration) or found no notebook to test:
a CI job pointed at the wrong directory must not pass by testing nothing.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg.cli_common import Context, console, errors, fails_cleanly
from kg.notebook_tests import Found, NotebookOutcome, NotebookSearchError, find_notebooks, run_notebook_tests
from kg.runs.config import ConfigError, RunConfig
from kg.runs.executors import LazyExecutor


@click.command("test-notebooks")
@click.argument("paths", nargs=-1, metavar="[PATH]...", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="Leave out notebooks whose path below PATH, or file name, matches GLOB (`*` matches `/` too). "
    "Repeatable.",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Notebooks run at once."
)
@click.option("--json", "as_json", is_flag=True, help="Print the list of results as JSON.")
@click.pass_obj
@fails_cleanly
def test_notebooks_command(
    obj: Context, paths: tuple[Path, ...], excludes: tuple[str, ...], jobs: int, as_json: bool
) -> None:
    """Execute every notebook under PATHs (default `.`) with its own defaults; PASS when all its
    cells run.

    Directories are searched recursively (`**/*.ipynb`), skipping hidden directories such as
    .ipynb_checkpoints and papermill output notebooks; test_*.ipynb notebooks, which execute
    others, run like the rest. Each notebook runs in its own run directory, which links the
    notebook's neighbours, and is recorded as a run (`kg runs`, `kg run show RUN`). Required
    resources come from the JSON file named by KG_RESOURCES.
    """
    try:
        config = RunConfig.from_env(obj.location)
        found = find_notebooks(paths or (Path("."),), excludes)
    except (ConfigError, NotebookSearchError) as exc:
        raise click.UsageError(str(exc)) from exc
    if not found.notebooks:
        raise click.UsageError(_nothing_found(paths, found))
    began = time.monotonic()
    executor = LazyExecutor("local", jobs)
    with obj.store() as store, _progress(len(found.notebooks)) as advance:
        try:
            outcomes = run_notebook_tests(store, found.notebooks, config, executor, advance)
        finally:
            executor.close()
    if as_json:
        click.echo(json.dumps([o.as_json() for o in outcomes], indent=2))
    else:
        _print_report(outcomes, found, time.monotonic() - began)
    sys.exit(0 if all(o.passed for o in outcomes) else 1)


def _nothing_found(paths: tuple[Path, ...], found: Found) -> str:
    where = ", ".join(map(str, paths)) or "."
    excluded = f" ({len(found.excluded)} excluded by --exclude)" if found.excluded else ""
    return f"no notebooks to test under {where}{excluded}"


@contextmanager
def _progress(total: int) -> Iterator[Callable[[NotebookOutcome], None]]:
    """A bar of notebooks done, on the error console when it is a terminal; call what it gives per one."""
    bar = Progress(
        TextColumn("testing notebooks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )
    task = bar.add_task("", total=total)
    with bar:
        yield lambda outcome: bar.advance(task)


def _print_report(outcomes: list[NotebookOutcome], found: Found, elapsed_s: float) -> None:
    """The table, then each failure's error and traceback (a CI log must show why), then the counts."""
    table = Table(title="Notebook tests")
    table.add_column("notebook", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("duration", no_wrap=True)
    table.add_column("run", overflow="fold")
    table.add_column("error")
    for o in outcomes:
        table.add_row(
            o.notebook,
            "[green]PASS[/green]" if o.passed else "[red]FAIL[/red]",
            "-" if o.duration_s is None else f"{o.duration_s:.1f} s",
            o.run_id or "-",
            (o.error or "").partition("\n")[0],
        )
    console.print(table)
    failed = [o for o in outcomes if not o.passed]
    for o in failed:
        console.print(f"\n[red]FAIL[/red] [bold]{o.notebook}[/bold] (run {o.run_id or '-'})", highlight=False)
        console.print(o.traceback or o.error or "", highlight=False, markup=False)
    excluded = f", {len(found.excluded)} excluded" if found.excluded else ""
    colour = "red" if failed else "green"
    console.print(
        f"[{colour}]{len(outcomes) - len(failed)} passed, {len(failed)} failed{excluded}[/{colour}] "
        f"in {elapsed_s:.1f} s; the runs are recorded: `kg runs`, `kg run show RUN`",
        highlight=False,
    )
