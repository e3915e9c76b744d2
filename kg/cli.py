"""The `kg` command line.

Exit codes: 0 success; 1 the work was done but something failed (a notebook with errors,
a query the store rejected); 2 the command itself was wrong (usage, unknown names).
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from harvesters.notebooks import HarvestReport, NotebookResult, UsageError, harvest
from kg.cli_common import Context, console, errors, fails_cleanly
from kg.cli_runs import run_group, runs_command
from kg.cli_tests import test_notebooks_command
from kg.formats import RDF_FORMATS, rdf_format_for_path
from kg.queries import get_named_query, named_queries
from kg.results import FORMAT_NAMES, FormatMismatch, write_result
from kg.store import QuerySyntaxError, StoreError
from kg.terms import from_text
from kg.workflows import (
    AmbiguousWorkflow,
    WorkflowNotFound,
    list_workflows,
    show_workflow,
    workflow_graph_triples,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "location",
    envvar="KG_STORE",
    metavar="LOCATION",
    help="A directory (default .kg/store), `memory:`, or an http(s):// SPARQL endpoint. Env: KG_STORE.",
)
@click.pass_context
def main(ctx: click.Context, location: str | None) -> None:
    """oda-kg: a knowledge graph of astronomical analysis workflows."""
    ctx.obj = Context(location)


@main.command("harvest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
@fails_cleanly
def harvest_command(obj: Context, paths: tuple[Path, ...]) -> None:
    """Harvest notebooks, directories and MMODA repositories into the graph."""
    with obj.store() as store, _progress() as progress:
        task = progress.add_task("harvesting", total=None)

        def advance(result: NotebookResult, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=result.file)

        try:
            report = harvest(list(paths), store, progress=advance)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from exc
    _print_report(report)
    sys.exit(1 if report.failed else 0)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )


#: Up to this many notebooks the harvest summary has a row per notebook, beyond it a row per repository.
_ROWS_PER_NOTEBOOK = 50


def _print_report(report: HarvestReport) -> None:
    if len(report.results) <= _ROWS_PER_NOTEBOOK:
        console.print(_notebook_table(report.results))
    else:
        console.print(_repository_table(report.results))
    for diagnostic in [*report.diagnostics, *(d for r in report.results for d in r.diagnostics)]:
        colour = "red" if diagnostic.severity == "error" else "yellow"
        console.print(f"[{colour}]{diagnostic.severity}[/{colour}] {diagnostic.where}: {diagnostic.message}")
    for path in report.removed:
        console.print(f"removed {path} (the notebook is gone)")
    written = len(report.written)
    unchanged = f", {len(report.unchanged)} unchanged" if report.unchanged else ""
    console.print(
        f"{written} workflow{'s' * (written != 1)} written{unchanged}, "
        f"{sum(len(r.warnings) for r in report.results)} warnings, "
        f"{sum(len(r.errors) for r in report.results) + len(report.diagnostics)} errors"
    )


def _notebook_table(results: list[NotebookResult]) -> Table:
    table = Table("notebook", "workflow", "parameters", "outputs", "warnings", "errors", title="Harvest")
    for result in results:
        wf = result.workflow
        status = "[green]written[/green]" if result.ok else "[red]not written[/red]"
        table.add_row(
            result.file,
            f"{wf.name} ({status})" if wf else status,
            str(len(wf.parameters)) if wf else "-",
            str(len(wf.outputs)) if wf else "-",
            str(len(result.warnings)),
            str(len(result.errors)),
        )
    return table


def _repository_table(results: list[NotebookResult]) -> Table:
    """Totals per repository: a big harvest's summary must stay readable (and fast to print)."""
    totals: dict[str, list[int]] = {}
    for result in results:
        wf = result.workflow
        key = wf.repository.iri if wf else "(unreadable notebooks)"
        row = totals.setdefault(key, [0, 0, 0, 0, 0, 0])
        counts = (1, int(result.ok), len(wf.parameters) if wf else 0, len(wf.outputs) if wf else 0)
        for index, value in enumerate((*counts, len(result.warnings), len(result.errors))):
            row[index] += value
    columns = ("repository", "notebooks", "written", "parameters", "outputs", "warnings", "errors")
    table = Table(*columns, title="Harvest")
    for key, row in totals.items():
        table.add_row(key, *map(str, row))
    return table


@main.command("workflows")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of workflow summaries).")
@click.pass_obj
@fails_cleanly
def workflows_command(obj: Context, as_json: bool) -> None:
    """List harvested workflows."""
    with obj.store() as store:
        workflows = list_workflows(store)
    if as_json:
        click.echo(json.dumps(workflows, indent=2))
        return
    table = Table("name", "notebook", "parameters", "outputs", "test")
    for wf in workflows:
        table.add_row(
            str(wf["name"]),
            str(wf["notebook_path"]),
            str(wf["parameters"]),
            str(wf["outputs"]),
            "yes" if wf["is_test"] else "",
        )
    console.print(table)


@main.group("workflow")
def workflow_group() -> None:
    """Inspect one workflow."""


@workflow_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON description (shape in the README).")
@click.pass_obj
@fails_cleanly
def workflow_show(obj: Context, name: str, as_json: bool) -> None:
    """Show a workflow by name, notebook path or IRI."""
    with obj.store() as store:
        try:
            wf = show_workflow(store, name)
        except (WorkflowNotFound, AmbiguousWorkflow) as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(wf, indent=2))
        return
    _print_workflow(wf)


def _print_workflow(wf: dict) -> None:
    console.print(f"[bold]{wf['name']}[/bold]  {wf['notebook_path']}  ({wf['repository']})")
    for key in ("version", "commit", "content_hash"):
        if wf.get(key):
            console.print(f"{key}: {wf[key]}")
    for reference in wf["references"]:
        console.print(f"reference: {reference}")
    table = Table(
        "parameter", "type", "default", "limits", "allowed", "unit", "common", "optional", title="Parameters"
    )
    for p in wf["parameters"]:
        limits = (
            ""
            if p["lower_limit"] is None and p["upper_limit"] is None
            else f"[{p['lower_limit']}, {p['upper_limit']}]"
        )
        table.add_row(
            p["name"],
            ", ".join(p["types"]),
            json.dumps(p["default"]) if p["default"] is not None else "",
            limits,
            ", ".join(map(str, p["allowed_values"])),
            p["unit"] or "",
            p["common_name"] or "",
            "yes" if p["optional"] else "",
        )
    console.print(table)
    outputs = Table("output", "type", "label", title="Outputs")
    for o in wf["outputs"]:
        outputs.add_row(o["name"], ", ".join(o["types"]), o["label"] or "")
    console.print(outputs)
    if wf["resources"]:
        resources = Table("resource", "type", "required", "variable", title="Resources")
        for r in wf["resources"]:
            resources.add_row(
                r["iri"], ", ".join(r["types"]), "yes" if r["required"] else "no", r["env_var"] or ""
            )
        console.print(resources)


@main.command("query")
@click.argument("text", required=False)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the query from a file.",
)
@click.option("--name", "name", help="Run a named query from queries/ (`kg query --list` shows them).")
@click.option(
    "--bind",
    "binds",
    multiple=True,
    metavar="VAR=VALUE",
    help="Bind a variable: `<iri>` or `oda:Term` for IRIs, else a string.",
)
@click.option(
    "--format", "fmt", type=click.Choice(FORMAT_NAMES), help="Output format (table/turtle by default)."
)
@click.option("--list", "list_queries", is_flag=True, help="List the named queries.")
@click.pass_obj
@fails_cleanly
def query_command(
    obj: Context,
    text: str | None,
    file: Path | None,
    name: str | None,
    binds: tuple[str, ...],
    fmt: str | None,
    list_queries: bool,
) -> None:
    """Run a SPARQL query: QUERY text, --file F or --name NAME."""
    if list_queries:
        for query in named_queries().values():
            params = " ".join(f"--bind {p}=..." for p in query.params)
            console.print(f"[bold]{query.name}[/bold] {params}\n  {query.title}: {query.description}")
        return
    sparql, required = _query_text(text, file, name)
    bindings = _bindings(binds)
    missing = [p for p in required if p not in bindings]
    if missing:
        raise click.UsageError(f"the query needs --bind for: {', '.join(missing)}")
    with obj.store() as store:
        try:
            result = store.query(sparql, bindings)
            write_result(result, fmt, sys.stdout.buffer, console)
        except QuerySyntaxError as exc:
            errors.print(f"[red]query error:[/red] {exc}")
            sys.exit(1)
        except FormatMismatch as exc:
            raise click.UsageError(str(exc)) from exc


def _query_text(text: str | None, file: Path | None, name: str | None) -> tuple[str, list[str]]:
    given = [x for x in (text, file, name) if x is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of QUERY, --file or --name")
    if file is not None:
        return file.read_text(), []
    if name is not None:
        try:
            query = get_named_query(name)
        except KeyError as exc:
            raise click.UsageError(str(exc.args[0])) from exc
        return query.text, list(query.params)
    return str(text), []


def _bindings(binds: tuple[str, ...]):
    bindings = {}
    for bind in binds:
        var, sep, value = bind.partition("=")
        if not sep or not var:
            raise click.UsageError(f"--bind takes VAR=VALUE, not {bind!r}")
        bindings[var.lstrip("?")] = from_text(value)
    return bindings


@main.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--graph", help="IRI of the named graph for triple formats (default graph when absent).")
@click.option(
    "--format", "fmt", type=click.Choice(list(RDF_FORMATS)), help="RDF format (guessed from each file name)."
)
@click.pass_obj
@fails_cleanly
def import_command(obj: Context, files: tuple[Path, ...], graph: str | None, fmt: str | None) -> None:
    """Bulk-import RDF files; a bad file is reported and the others still load."""
    from pyoxigraph import NamedNode

    failed = False
    with obj.store() as store:
        for path in files:
            try:
                format_ = RDF_FORMATS[fmt] if fmt else rdf_format_for_path(path.name)
                store.import_file(path, format_.rdf, NamedNode(graph) if graph else None)
            except (ValueError, StoreError) as exc:
                errors.print(f"[red]error:[/red] {path}: {exc}")
                failed = True
                continue
            console.print(f"imported {path}")
    sys.exit(1 if failed else 0)


@main.command("export")
@click.argument("out", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([n for n, f in RDF_FORMATS.items() if f.has_graphs]),
    help="Dataset format (default: from OUT's name, else trig).",
)
@click.pass_obj
@fails_cleanly
def export_command(obj: Context, out: Path | None, fmt: str | None) -> None:
    """Export the whole dataset, named graphs included, to OUT or standard output."""
    format_ = RDF_FORMATS[fmt] if fmt else (rdf_format_for_path(out.name) if out else RDF_FORMATS["trig"])
    if not format_.has_graphs:
        raise click.UsageError(f"{format_.name} cannot carry named graphs; use trig, nquads or jsonld")
    with obj.store() as store:
        if out is None:
            store.export(sys.stdout.buffer, format_.rdf)
        else:
            with out.open("wb") as handle:
                store.export(handle, format_.rdf)


@main.group("ontology")
def ontology_group() -> None:
    """The ODA ontology shipped with the platform."""


@ontology_group.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ontology_check(files: tuple[Path, ...]) -> None:
    """Run the HermiT reasoner on the shipped ontology (or Turtle FILES): consistency and
    unsatisfiable classes."""
    from kg.reasoning import ReasonerError, check_consistency

    try:
        report = check_consistency(list(files) or None)
    except ReasonerError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        sys.exit(1)
    colour = "green" if report.ok else "red"
    console.print(f"[{colour}]{report.message}[/{colour}]")
    for iri in report.unsatisfiable:
        console.print(f"  unsatisfiable: {iri}")
    sys.exit(0 if report.ok else 1)


@main.command("validate")
@click.argument("names", nargs=-1)
@click.pass_obj
@fails_cleanly
def validate_command(obj: Context, names: tuple[str, ...]) -> None:
    """Check harvested workflow graphs against the SHACL shapes (all, or NAMES)."""
    from kg.shapes import validate

    with obj.store() as store:
        try:
            keys = list(names) or [str(wf["iri"]) for wf in list_workflows(store)]
            graphs = {key: workflow_graph_triples(store, key) for key in keys}
        except (WorkflowNotFound, AmbiguousWorkflow) as exc:
            raise click.UsageError(str(exc)) from exc
    failed = 0
    for key, triples in graphs.items():
        report = validate(triples)
        if report.conforms:
            continue
        failed += 1
        for violation in report.results:
            console.print(f"[red]{key}[/red]: {violation.focus_node} {violation.path}: {violation.message}")
    console.print(f"{len(graphs) - failed} of {len(graphs)} workflow graphs conform to the shapes")
    sys.exit(1 if failed else 0)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--store", "location", metavar="LOCATION", help="The store to serve (overrides `kg --store`).")
@click.option(
    "--cors", multiple=True, metavar="ORIGIN", help="Let browser pages from ORIGIN call the API (repeatable)."
)
@click.option(
    "--allow-service",
    multiple=True,
    metavar="PREFIX",
    help="Let SERVICE reach endpoints whose IRI starts with PREFIX (repeatable; default: none).",
)
@click.option(
    "--query-timeout",
    type=float,
    help="Seconds before a query is stopped (default 30). Env: KG_QUERY_TIMEOUT.",
)
@click.option(
    "--row-limit", type=int, help="Most rows or triples in a result (default 100000). Env: KG_ROW_LIMIT."
)
@click.option(
    "--max-body", metavar="SIZE", help="Largest request body, e.g. 16MiB (default). Env: KG_MAX_BODY."
)
@click.option("--workers", type=int, help="Query worker processes for an on-disk store (default 2).")
@click.option(
    "--executor",
    metavar="SPEC",
    help="Where runs started through /api/runs execute: local (default) or dask://HOST:PORT. "
    "Env: KG_EXECUTOR.",
)
@click.option(
    "--run-jobs", type=int, help="Runs executing at once on the local executor (default 2). Env: KG_RUN_JOBS."
)
@click.option(
    "--access-log", is_flag=True, help="Log every request (off by default: it costs ~10% of throughput)."
)
@click.pass_obj
@fails_cleanly
def serve_command(
    obj: Context,
    host: str,
    port: int,
    location: str | None,
    cors: tuple[str, ...],
    allow_service: tuple[str, ...],
    query_timeout: float | None,
    row_limit: int | None,
    max_body: str | None,
    workers: int | None,
    executor: str | None,
    run_jobs: int | None,
    access_log: bool,
) -> None:
    """Serve the SPARQL endpoint, Graph Store, JSON API and query UI over HTTP.

    Write tokens come from KG_WRITE_TOKENS (read tokens, if reads are private, from
    KG_READ_TOKENS), comma-separated; without any, every write is refused.
    """
    import uvicorn

    from api.app import create_app
    from api.settings import Settings, parse_size

    try:
        settings = Settings.from_env(
            store=location or obj.location,
            cors_origins=cors,
            allowed_services=allow_service,
            query_timeout=query_timeout,
            row_limit=row_limit,
            max_body=parse_size(max_body) if max_body else None,
            workers=workers,
            executor=executor,
            run_jobs=run_jobs,
        )
        app = create_app(settings)  # reads the run configuration too
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    click.echo(f"serving {settings.store}")
    click.echo(f"  SPARQL endpoint  {base}/sparql")
    click.echo(f"  query UI         {base}/")
    click.echo(f"  API docs         {base}/docs")
    if settings.write_tokens:
        click.echo("writes need Authorization: Bearer <one of KG_WRITE_TOKENS>")
    else:
        click.echo(
            "writes are refused until you set KG_WRITE_TOKENS=<token> (comma-separated for several), "
            f"e.g. KG_WRITE_TOKENS={secrets.token_urlsafe(24)}"
        )
    if settings.read_tokens:
        click.echo("reads need Authorization: Bearer <one of KG_READ_TOKENS or KG_WRITE_TOKENS>")
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)


main.add_command(run_group)
main.add_command(runs_command)
main.add_command(test_notebooks_command)
