"""Runs in the store: written at each lifecycle step, read back for `kg runs`, `kg run show` and the API.

Each run lives in its own named graph, rewritten whole at every step (planned, active, completed
or failed), so a reader never sees a mix of two steps and nothing of an earlier step lingers.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import psutil
from pyoxigraph import Literal, NamedNode, Quad

from harvesters.runs.rdf import STATUS_TERMS, date_time, run_quads
from kg.graphs import GRAPH_TRIPLES, About, one, read_graph
from kg.iris import run_graph, run_iri
from kg.namespaces import DCTERMS, KG, ODA, PROV, RDF, SCHEMA, SPARQL_PROLOGUE
from kg.queries import get_named_query
from kg.runs.model import Run, Status
from kg.store.base import Store
from kg.terms import to_python
from kg.workflows import key_term

_STATUSES = {term: status for status, term in STATUS_TERMS.items()}
_UNFINISHED = (
    SPARQL_PROLOGUE
    + """SELECT ?id ?worker WHERE {
  VALUES ?status { schema:PotentialActionStatus schema:ActiveActionStatus }
  ?run a kg:Run ; schema:identifier ?id ; schema:actionStatus ?status ; kg:worker ?worker .
}"""
)
#: What a dead run's rewrite replaces: it is no longer active nor executing anywhere.
_CLEARED = frozenset({SCHEMA.actionStatus, KG.worker, PROV.endedAtTime, SCHEMA.error})


class RunNotFound(LookupError):
    pass


def write_run(store: Store, run: Run) -> None:
    """Record `run` as it is now, replacing whatever its graph held (atomically)."""
    store.replace_graphs({run_graph(run.id): run_quads(run)})


def list_runs(store: Store, workflow: str | None = None) -> list[dict[str, object]]:
    """One summary per run, newest first; `workflow` (a name or IRI) keeps only that workflow's runs."""
    bindings = {} if workflow is None else {"workflowKey": key_term(workflow)}
    rows = store.select(get_named_query("runs").text, bindings)
    return [
        {
            "id": row["id"].value,
            "workflow": row["workflowName"].value,
            "workflow_iri": row["workflow"].value,
            "status": _STATUSES[row["status"]].value,
            "created_at": row["created"].value,
            "started_at": _value(row.get("started")),
            "ended_at": _value(row.get("ended")),
            "error": _value(row.get("error")),
            "cache_key": row["cacheKey"].value,
            "cached": to_python(row["cached"]),
        }
        for row in rows
    ]


def show_run(store: Store, run_id: str) -> dict[str, object]:
    """The full record of one run (shape documented in the README); RunNotFound when there is none."""
    node = run_iri(run_id)
    about = read_graph(store, run_graph(run_id))
    run = about.get(node, {})
    if KG.Run not in run.get(RDF.type, []):
        raise RunNotFound(f"no run {run_id!r}; `kg runs` lists them")
    started, ended = one(run, PROV.startedAtTime), one(run, PROV.endedAtTime)
    return {
        "id": run_id,
        "iri": node.value,
        "workflow": one(run, KG.workflowName),
        "workflow_iri": run[PROV.hadPlan][0].value,
        "notebook": one(run, KG.notebookFile),
        "content_hash": one(run, KG.contentHash),
        "commit": one(run, KG.commit),
        "status": _STATUSES[run[SCHEMA.actionStatus][0]].value,
        "cache_key": one(run, KG.cacheKey),
        "created_at": one(run, DCTERMS.created),
        "started_at": started,
        "ended_at": ended,
        "duration_s": _duration(started, ended),
        "values": dict(sorted(_parameter_value(about[v]) for v in run.get(KG.parameterValue, []))),
        "outputs": sorted((_output(about[o]) for o in run.get(PROV.generated, [])), key=lambda o: o["name"]),
        "error": one(run, SCHEMA.error),
        "traceback": one(run, KG.traceback),
        "progress": _json(run, KG.progress),
        "worker": one(run, KG.worker),
        "environment": _json(run, KG.environment),
        "executed_notebook": one(run, KG.executedNotebook),
        "objects": sorted(one(about[o], SCHEMA.name) for o in run.get(PROV.used, [])),
        "calls": sorted(
            (_call(about, c) for c in run.get(KG.madeCall, [])), key=lambda c: c["started_at"] or ""
        ),
    }


def worker_id(pid: int | None = None) -> str:
    """`<host>:<pid>:<start time>` of a process (this one by default), for `Run.worker`.

    The start time tells a dead worker from a new process that was given the same pid.
    """
    process = psutil.Process(pid)
    return f"{socket.gethostname()}:{process.pid}:{process.create_time():.2f}"


def mark_dead_runs(store: Store, *, host: str | None = None) -> list[str]:
    """Rewrite as failed every planned or active run whose supervising process on this machine is
    gone (it alone would have run and recorded it); their ids. Runs planned without a process
    (by automation, to be picked up later) have no `kg:worker` and are left planned.

    `host` is this machine's name as workers record it (default: its hostname). Only processes
    of this machine can be checked, so active runs of other hosts, and runs whose worker is not
    `host:pid[:start]`, are left alone: run this on each machine (the CLI does at start-up).
    """
    host = host or socket.gethostname()
    dead = []
    for row in store.select(_UNFINISHED):
        worker_host, _, rest = row["worker"].value.partition(":")
        pid, _, started = rest.partition(":")
        if worker_host != host or not pid.isdigit() or _alive(int(pid), started or None):
            continue
        run_id = row["id"].value
        _fail(store, run_id, f"the run's process died (pid {pid} on {host}) before it finished")
        dead.append(run_id)
    return dead


def _alive(pid: int, started: str | None) -> bool:
    """Whether process `pid` runs, and is the one started at `started` (when known)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or f"{process.create_time():.2f}" == started
    except psutil.NoSuchProcess:
        return False


def _fail(store: Store, run_id: str, error: str) -> None:
    """The run's graph as it is, but failed now with `error`: it keeps its values and last progress."""
    graph, node = run_graph(run_id), run_iri(run_id)
    rows = store.select(GRAPH_TRIPLES, {"g": graph})
    kept = [Quad(r["s"], r["p"], r["o"], graph) for r in rows if r["s"] != node or r["p"] not in _CLEARED]
    store.replace_graphs(
        {
            graph: [
                *kept,
                Quad(node, SCHEMA.actionStatus, STATUS_TERMS[Status.FAILED], graph),
                Quad(node, SCHEMA.error, Literal(error), graph),
                Quad(node, PROV.endedAtTime, date_time(datetime.now(UTC)), graph),
            ]
        }
    )


def _json(props: dict, prop: NamedNode) -> object:
    text = one(props, prop)
    return None if text is None else json.loads(str(text))


def _value(term: object) -> str | None:
    return None if term is None else term.value


def _duration(started: object, ended: object) -> float | None:
    if started is None or ended is None:
        return None
    return (datetime.fromisoformat(str(ended)) - datetime.fromisoformat(str(started))).total_seconds()


def _parameter_value(props: dict) -> tuple[str, object]:
    return str(one(props, SCHEMA.name)), one(props, SCHEMA.value)


def _output(props: dict) -> dict[str, object]:
    return {
        "name": one(props, SCHEMA.name),
        "value_hash": one(props, KG.valueHash),
        "kind": one(props, KG.valueKind),
        "value": one(props, SCHEMA.value),
        "file": one(props, KG.file),
    }


def _call(about: About, node: NamedNode) -> dict[str, object]:
    """An astroquery call as `harvesters.astroquery.rdf` records it, its arguments parsed."""
    props = about[node]
    return {
        "module": _named(about, props, ODA.isUsing),
        "method": one(props, KG.method),
        "arguments": _json(props, KG.arguments),
        "started_at": one(props, PROV.startedAtTime),
        "duration_s": one(props, KG.duration),
        "outcome": one(props, KG.outcome),
        "error": one(props, SCHEMA.error),
        "objects": sorted(one(about[o], SCHEMA.name) for o in props.get(ODA.isRequestingAstroObject, [])),
        "region": _named(about, props, ODA.isRequestingAstroRegion),
        "cache": one(props, KG.cacheActive),
    }


def _named(about: About, props: dict, prop: NamedNode) -> object:
    """The schema:name of the node `prop` points to."""
    nodes = props.get(prop)
    return one(about[nodes[0]], SCHEMA.name) if nodes else None
