"""SPARQL endpoints under a BSBM-shaped query mix: `kg serve` against `oxigraph serve` and rdflib-endpoint.

Generates ~1M triples of Berlin SPARQL Benchmark-shaped data (deterministic, see bsbm.py) and a
100k-triple slice of it. kg and oxigraph serve both, rdflib-endpoint (in-memory rdflib) the slice.
Per data set, with the same HTTP client (httpx, POST form `query=`): per-query median latency over
N parametrised repetitions after a warm-up, the servers taking turns request by request; then the
throughput of C concurrent clients running the mix for a fixed time, one server at a time. Every
server must return the same number of results for each query and parameter set on the same data,
or the run fails.
Aims: kg/oxigraph latency (geometric mean of medians) <= 1.3, throughput >= 0.8x oxigraph's,
kg >= 20x faster than rdflib-endpoint on the slice. A benchmark report, not a test.

    .venv/bin/python benchmarks/sparql.py [--triples N] [--reps N] [--duration S] [--keep DIR]
                                          [--only kg,oxigraph,rdflib]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import httpx
import pyoxigraph
from bsbm import CURRENT_DATE, SEED, Dataset, Product, generate

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
LATENCY_AIM = 1.3
"""kg's per-query medians may be at most this many times oxigraph's (geometric mean)."""
THROUGHPUT_AIM = 0.8
"""kg's queries/s must be at least this fraction of oxigraph's."""
RDFLIB_AIM = 20.0
"""kg must be at least this many times faster than rdflib-endpoint on the slice (geometric mean)."""
READY_TIMEOUT = 300.0
REQUEST_TIMEOUT = 600.0
ROUNDS = 3
"""Throughput is measured in this many alternating rounds per server, --duration in all."""
SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "text/turtle"

PREFIXES = """\
PREFIX bsbm: <http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/vocabulary/>
PREFIX bsbm-export: <http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/vocabulary/export/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX dc: <http://purl.org/dc/elements/1.1/>
PREFIX rev: <http://purl.org/stuff/rev#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

Params = dict[str, str]
Draw = Callable[[random.Random, list[Product]], Params]


# -- the query mix ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    shape: str
    """What it exercises (the README lists it)."""
    template: str
    """SPARQL after PREFIXES, with $placeholders."""
    draw: Draw
    graph: bool = False
    """CONSTRUCT or DESCRIBE (Turtle), else SELECT (JSON results)."""


def _iri(value: str) -> str:
    return f"<{value}>"


def _product(rng: random.Random, products: list[Product]) -> Params:
    return {"product": _iri(rng.choice(products).iri)}


def _type_features(rng: random.Random, products: list[Product]) -> Params:
    """BSBM Q1: a type of some product, two of its features, a bound below its numeric1."""
    p = rng.choice(products)
    f1, f2 = rng.sample(p.features, 2)
    x = max(0, p.numeric[0] - rng.randint(0, 500))
    return {"type": _iri(rng.choice(p.types)), "f1": _iri(f1), "f2": _iri(f2), "x": str(x)}


def _type_not_feature(rng: random.Random, products: list[Product]) -> Params:
    """BSBM Q3: a product's middle type, one of its features, one it lacks, bounds around it."""
    p = rng.choice(products)
    return {
        "type": _iri(p.types[1]),
        "f1": _iri(rng.choice(p.features)),
        "f2": _iri(rng.choice(p.type_features)),
        "x": str(max(0, p.numeric[0] - rng.randint(0, 800))),
        "y": str(p.numeric[2] + rng.randint(1, 800)),
    }


def _product_country(rng: random.Random, products: list[Product]) -> Params:
    """A product, the country of one of its offers' vendors, BSBM's current date."""
    p = rng.choice(products)
    return {"product": _iri(p.iri), "country": _iri(rng.choice(p.vendor_countries)), "date": _date()}


def _date() -> str:
    return f'"{CURRENT_DATE}"^^xsd:dateTime'


def _review(rng: random.Random, products: list[Product]) -> Params:
    return {"review": _iri(rng.choice(rng.choice(products).reviews))}


def _offer(rng: random.Random, products: list[Product]) -> Params:
    return {"offer": _iri(rng.choice(rng.choice(products).offers))}


def _top_type(rng: random.Random, products: list[Product]) -> Params:
    return {"type": _iri(rng.choice(products).types[-1])}


QUERIES = [
    Query("lookup", "point lookup", "SELECT ?p ?o WHERE { $product ?p ?o }", _product),
    Query(
        "product-details",
        "star join, OPTIONAL (BSBM Q2)",
        """SELECT ?label ?comment ?producer ?feature ?t1 ?t2 ?t3 ?n1 ?n2 ?t4 ?t5 ?n4 WHERE {
  $product rdfs:label ?label ; rdfs:comment ?comment ; bsbm:producer ?p ; dc:publisher ?p ;
    bsbm:productFeature ?f ; bsbm:productPropertyTextual1 ?t1 ; bsbm:productPropertyTextual2 ?t2 ;
    bsbm:productPropertyTextual3 ?t3 ; bsbm:productPropertyNumeric1 ?n1 ; bsbm:productPropertyNumeric2 ?n2 .
  ?p rdfs:label ?producer . ?f rdfs:label ?feature .
  OPTIONAL { $product bsbm:productPropertyTextual4 ?t4 }
  OPTIONAL { $product bsbm:productPropertyTextual5 ?t5 }
  OPTIONAL { $product bsbm:productPropertyNumeric4 ?n4 }
}""",
        _product,
    ),
    Query(
        "type-features",
        "FILTER, ORDER BY + LIMIT (BSBM Q1)",
        """SELECT DISTINCT ?product ?label WHERE {
  ?product rdfs:label ?label ; a $type ; bsbm:productFeature $f1, $f2 ; bsbm:productPropertyNumeric1 ?v1 .
  FILTER (?v1 > $x)
} ORDER BY ?label LIMIT 10""",
        _type_features,
    ),
    Query(
        "type-without-feature",
        "OPTIONAL + !bound, ORDER BY + LIMIT (BSBM Q3)",
        """SELECT ?product ?label WHERE {
  ?product rdfs:label ?label ; a $type ; bsbm:productFeature $f1 ;
    bsbm:productPropertyNumeric1 ?p1 ; bsbm:productPropertyNumeric3 ?p3 .
  FILTER (?p1 > $x && ?p3 < $y)
  OPTIONAL { ?product bsbm:productFeature $f2 . ?product rdfs:label ?other }
  FILTER (!bound(?other))
} ORDER BY ?label LIMIT 10""",
        _type_not_feature,
    ),
    Query(
        "similar-products",
        "join on shared feature, numeric ranges (BSBM Q5)",
        """SELECT DISTINCT ?product ?label WHERE {
  ?product rdfs:label ?label .
  FILTER ($product != ?product)
  $product bsbm:productFeature ?feature . ?product bsbm:productFeature ?feature .
  $product bsbm:productPropertyNumeric1 ?o1 . ?product bsbm:productPropertyNumeric1 ?s1 .
  FILTER (?s1 < (?o1 + 300) && ?s1 > (?o1 - 300))
  $product bsbm:productPropertyNumeric2 ?o2 . ?product bsbm:productPropertyNumeric2 ?s2 .
  FILTER (?s2 < (?o2 + 400) && ?s2 > (?o2 - 400))
} ORDER BY ?label LIMIT 5""",
        _product,
    ),
    Query(
        "offers-and-reviews",
        "nested OPTIONALs (BSBM Q7)",
        """SELECT ?label ?offer ?price ?vendor ?vendorTitle ?review ?title ?reviewer ?name ?r1 ?r2 WHERE {
  $product rdfs:label ?label .
  OPTIONAL {
    ?offer bsbm:product $product ; bsbm:price ?price ; bsbm:vendor ?vendor ; bsbm:validTo ?date .
    ?vendor rdfs:label ?vendorTitle ; bsbm:country $country .
    FILTER (?date > $date)
  }
  OPTIONAL {
    ?review bsbm:reviewFor $product ; rev:reviewer ?reviewer ; dc:title ?title .
    ?reviewer foaf:name ?name .
    OPTIONAL { ?review bsbm:rating1 ?r1 }
    OPTIONAL { ?review bsbm:rating2 ?r2 }
  }
}""",
        _product_country,
    ),
    Query(
        "recent-reviews",
        "langMatches FILTER, ORDER BY DESC + LIMIT (BSBM Q8)",
        """SELECT ?title ?text ?date ?reviewer ?name ?r1 ?r2 ?r3 ?r4 WHERE {
  ?review bsbm:reviewFor $product ; dc:title ?title ; rev:text ?text ; bsbm:reviewDate ?date ;
    rev:reviewer ?reviewer .
  FILTER langMatches(lang(?text), "EN")
  ?reviewer foaf:name ?name .
  OPTIONAL { ?review bsbm:rating1 ?r1 }
  OPTIONAL { ?review bsbm:rating2 ?r2 }
  OPTIONAL { ?review bsbm:rating3 ?r3 }
  OPTIONAL { ?review bsbm:rating4 ?r4 }
} ORDER BY DESC(?date) LIMIT 20""",
        _product,
    ),
    Query(
        "cheap-offers",
        "FILTER on dates and integers, ORDER BY + LIMIT (BSBM Q10)",
        """SELECT DISTINCT ?offer ?price WHERE {
  ?offer bsbm:product $product ; bsbm:vendor ?vendor ; dc:publisher ?vendor ;
    bsbm:deliveryDays ?days ; bsbm:price ?price ; bsbm:validTo ?date .
  ?vendor bsbm:country $country .
  FILTER (?days <= 3 && ?date > $date)
} ORDER BY ?price LIMIT 10""",
        _product_country,
    ),
    Query(
        "producer-ratings",
        "GROUP BY, COUNT, AVG over a top-level type",
        """SELECT ?producer (COUNT(?review) AS ?reviews) (AVG(?rating) AS ?average) WHERE {
  ?product a $type ; bsbm:producer ?producer .
  ?review bsbm:reviewFor ?product ; bsbm:rating1 ?rating .
} GROUP BY ?producer ORDER BY DESC(?reviews) ?producer LIMIT 10""",
        _top_type,
    ),
    Query(
        "describe-reviewer",
        "DESCRIBE (BSBM Q9)",
        "DESCRIBE ?x WHERE { $review rev:reviewer ?x }",
        _review,
        graph=True,
    ),
    Query(
        "offer-export",
        "CONSTRUCT (BSBM Q12)",
        """CONSTRUCT {
  $offer bsbm-export:product ?product ; bsbm-export:productlabel ?label ; bsbm-export:vendor ?vendorName ;
    bsbm-export:vendorhomepage ?homepage ; bsbm-export:offerURL ?url ; bsbm-export:price ?price ;
    bsbm-export:deliveryDays ?days ; bsbm-export:validuntil ?validTo .
} WHERE {
  $offer bsbm:product ?product ; bsbm:vendor ?vendor ; bsbm:offerWebpage ?url ; bsbm:price ?price ;
    bsbm:deliveryDays ?days ; bsbm:validTo ?validTo .
  ?product rdfs:label ?label .
  ?vendor rdfs:label ?vendorName ; foaf:homepage ?homepage .
}""",
        _offer,
        graph=True,
    ),
]
Mix = dict[str, list[str]]
"""Query name -> SPARQL texts, one per parameter set."""


def draw_mix(dataset: Dataset, count: int, seed: int) -> Mix:
    """`count` parameter sets per query, drawn from the dataset; the same for every server on it."""
    rng = random.Random(f"{seed}-{dataset.triples}")
    return {
        q.name: [
            PREFIXES + Template(q.template).substitute(q.draw(rng, dataset.products)) for _ in range(count)
        ]
        for q in QUERIES
    }


# -- servers ----------------------------------------------------------------------------------


@dataclass
class Server:
    target: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    setup: float
    """Seconds to load the data and get the first answer."""


def fresh(directory: Path) -> Path:
    """`directory`, emptied of an earlier run's store (with --keep)."""
    shutil.rmtree(directory, ignore_errors=True)
    return directory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_checked(command: list[str], log: Path) -> None:
    """Run a setup command to completion, output appended to `log`; fails loudly."""
    with log.open("ab") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}):\n{tail(log)}")


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A server in its own process group (so stop() ends its children too), output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (its workers too), SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the whole group has already exited
            break
        try:
            process.wait(10)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the endpoint answers an ASK; fails loudly if the server exits or never answers."""
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode}:\n{tail(log)}")
            try:
                answer = client.post(
                    url, data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": SELECT_ACCEPT}
                )
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {READY_TIMEOUT:.0f} s:\n{tail(log)}")


def start_oxigraph(dataset: Dataset, work: Path, label: str) -> Server:
    """`oxigraph load` into a fresh directory, then `oxigraph serve` on it."""
    location, log, port = fresh(work / f"oxigraph-{label}"), work / f"oxigraph-{label}.log", free_port()
    started = time.perf_counter()
    run_checked(
        [str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(dataset.path)], log
    )
    command = [str(BIN / "oxigraph"), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    return _ready("oxigraph", command, f"http://127.0.0.1:{port}/query", log, started)


def kg_serve_options() -> str | None:
    """`kg serve --help`, or None when this kg has no serve command yet."""
    done = subprocess.run([str(BIN / "kg"), "serve", "--help"], capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def start_kg(dataset: Dataset, work: Path, label: str) -> Server:
    """`kg import` into a fresh store, then `kg serve` on it."""
    location, log, port = fresh(work / f"kg-{label}"), work / f"kg-{label}.log", free_port()
    started = time.perf_counter()
    run_checked([str(BIN / "kg"), "--store", str(location), "import", str(dataset.path)], log)
    command = [str(BIN / "kg"), "--store", str(location), "serve", "--port", str(port)]
    if "--host" in (kg_serve_options() or ""):
        command += ["--host", "127.0.0.1"]
    return _ready("kg", command, f"http://127.0.0.1:{port}/sparql", log, started)


def start_rdflib(dataset: Dataset, work: Path, label: str) -> Server:
    """rdflib-endpoint's own CLI: parses the file into an in-memory rdflib Dataset, serves it at `/`."""
    log, port = work / f"rdflib-{label}.log", free_port()
    started = time.perf_counter()
    command = [str(BIN / "rdflib-endpoint"), "serve", str(dataset.path), "--host", "127.0.0.1"]
    return _ready("rdflib", [*command, "--port", str(port)], f"http://127.0.0.1:{port}/", log, started)


def _ready(target: str, command: list[str], url: str, log: Path, started: float) -> Server:
    process = spawn(command, log)
    try:
        wait_ready(url, process, log)
    except BaseException:
        stop(process)
        raise
    return Server(target, url, process, log, time.perf_counter() - started)


STARTERS: dict[str, Callable[[Dataset, Path, str], Server]] = {
    "kg": start_kg,
    "oxigraph": start_oxigraph,
    "rdflib": start_rdflib,
}


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Measurement:
    target: str
    data: str
    """`full` or `slice`."""
    reps: int
    setup: float = 0.0
    medians: dict[str, float] = field(default_factory=dict)
    """Seconds, per query."""
    counts: dict[str, list[int | None]] = field(default_factory=dict)
    """Results per parameter set (None: the request failed)."""
    completed: int = 0
    """Queries answered in the throughput rounds."""
    elapsed: float = 0.0
    """Seconds the throughput rounds took."""
    errors: list[str] = field(default_factory=list)

    @property
    def qps(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


def send(client: httpx.Client, url: str, sparql: str, graph: bool) -> httpx.Response | str:
    """POST the query as a form; the response read in full, or why there is none."""
    accept = GRAPH_ACCEPT if graph else SELECT_ACCEPT
    try:
        return client.post(url, data={"query": sparql}, headers={"Accept": accept})
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"


def count(response: httpx.Response, graph: bool) -> int:
    """Solutions of a JSON result, or distinct triples of an RDF graph in the response's format."""
    if not graph:
        return len(response.json()["results"]["bindings"])
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    rdf_format = pyoxigraph.RdfFormat.from_media_type(media_type)
    if rdf_format is None and "xml" in media_type:  # rdflib-endpoint labels DESCRIBE's RDF/XML this way
        rdf_format = pyoxigraph.RdfFormat.RDF_XML
    if rdf_format is None:
        raise ValueError(f"cannot read a graph sent as {media_type!r}")
    return len(set(pyoxigraph.parse(response.content, rdf_format)))


def failure(response: httpx.Response | str) -> str | None:
    """None for a 200, else what went wrong."""
    if isinstance(response, str):
        return response
    return None if response.status_code == 200 else f"HTTP {response.status_code}: {response.text[:300]!r}"


def warm_up(servers: list[Server], mix: Mix, warmup: int) -> None:
    """Each query with the last `warmup` parameter sets (never the measured ones), on every server."""
    graph = {q.name: q.graph for q in QUERIES}
    for server in servers:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            for name, texts in mix.items():
                for sparql in texts[len(texts) - warmup :]:
                    send(client, server.url, sparql, graph[name])


def latency(servers: list[Server], measurements: list[Measurement], mix: Mix) -> None:
    """Each query with its first `reps` parameter sets, one request at a time, the servers taking turns
    per request (whoever goes first rotates) so that they share the machine's background load alike.
    Records the median round trip (response read in full) and, untimed, each result count."""
    clients = [httpx.Client(timeout=REQUEST_TIMEOUT) for _ in servers]
    try:
        for q in QUERIES:
            times: list[list[float]] = [[] for _ in servers]
            for m in measurements:
                m.counts[q.name] = []
            for index, sparql in enumerate(mix[q.name][: max(m.reps for m in measurements)]):
                for turn in range(len(servers)):
                    k = (index + turn) % len(servers)
                    server, m = servers[k], measurements[k]
                    if index >= m.reps:
                        continue
                    started = time.perf_counter()
                    response = send(clients[k], server.url, sparql, q.graph)
                    times[k].append(time.perf_counter() - started)
                    if isinstance(response, httpx.Response) and response.status_code == 200:
                        m.counts[q.name].append(count(response, q.graph))
                    else:
                        m.counts[q.name].append(None)
                        m.errors.append(f"{q.name} #{index}: {failure(response)}")
            for k, m in enumerate(measurements):
                m.medians[q.name] = statistics.median(times[k])
    finally:
        for client in clients:
            client.close()


def throughput(server: Server, mix: Mix, m: Measurement, clients: int, duration: float) -> None:
    """`clients` threads, each with its own httpx.Client, cycle through the mix (each starting at a
    different query and parameter set) until `duration` has passed; adds to m's completed queries."""
    graph = {q.name: q.graph for q in QUERIES}
    names, deadline = list(mix), time.perf_counter() + duration
    done, lock = [0], threading.Lock()

    def client_loop(k: int) -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            i = 0
            while time.perf_counter() < deadline:
                name = names[(k + i) % len(names)]
                texts = mix[name]
                problem = failure(
                    send(client, server.url, texts[(i // len(names) + 5 * k) % len(texts)], graph[name])
                )
                with lock:
                    done[0] += problem is None
                    if problem:
                        m.errors.append(f"{name} (throughput): {problem}")
                i += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    m.completed += done[0]
    m.elapsed += time.perf_counter() - started


def measure(
    data: str, targets: list[str], dataset: Dataset, mix: Mix, work: Path, args: argparse.Namespace
) -> list[Measurement]:
    """Start every target's server on the data, measure latency (interleaved), then throughput in
    ROUNDS alternating rounds per server (one server loaded at a time); always stop them all."""
    servers: list[Server] = []
    try:
        for target in targets:
            print(f"  {target} on {data} data: loading and starting", file=sys.stderr, flush=True)
            servers.append(STARTERS[target](dataset, work, data))
        measurements = [Measurement(s.target, data, reps_for(s.target, args), s.setup) for s in servers]
        print(f"  {data} data: latency", file=sys.stderr, flush=True)
        warm_up(servers, mix, args.warmup)
        latency(servers, measurements, mix)
        print(f"  {data} data: throughput", file=sys.stderr, flush=True)
        for _ in range(ROUNDS):
            for server, m in zip(servers, measurements, strict=True):
                throughput(server, mix, m, args.clients, args.duration / ROUNDS)
    finally:
        for server in servers:
            stop(server.process)
    return measurements


def reps_for(target: str, args: argparse.Namespace) -> int:
    return args.rdflib_reps if target == "rdflib" else args.reps


def disagreements(measurements: list[Measurement]) -> list[str]:
    """Queries and parameter sets where servers on the same data returned different result counts."""
    found = []
    for data in ("full", "slice"):
        group = [m for m in measurements if m.data == data]
        for q in QUERIES:
            for index in range(min((m.reps for m in group), default=0)):
                counts = {m.target: m.counts[q.name][index] for m in group}
                if len(set(counts.values())) > 1:
                    found.append(f"{data} data, {q.name} parameter set #{index}: {counts}")
    return found


# -- report -----------------------------------------------------------------------------------


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def find(measurements: list[Measurement], target: str, data: str) -> Measurement | None:
    return next((m for m in measurements if m.target == target and m.data == data), None)


def ms(m: Measurement | None, name: str) -> str:
    """A median in milliseconds, to about three significant digits."""
    if m is None:
        return "-"
    value = m.medians[name] * 1000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def rows(measurements: list[Measurement], data: str, name: str) -> str:
    """Median result count of a query on that data (the servers agree, or the run fails)."""
    group = [c for m in measurements if m.data == data for c in m.counts[name] if c is not None]
    return f"{statistics.median(group):g}" if group else "-"


def ratio(a: Measurement | None, b: Measurement | None, name: str, form: str) -> str:
    return format(a.medians[name] / b.medians[name], form) if a and b else "-"


def report_table(measurements: list[Measurement]) -> None:
    """Per-query medians on both data sets, then every server's throughput."""
    kg, ox = find(measurements, "kg", "full"), find(measurements, "oxigraph", "full")
    skg, sox, srd = (find(measurements, t, "slice") for t in ("kg", "oxigraph", "rdflib"))
    print(f"\n{'median latency, ms':22} {'full data':^37}|{'slice':^48}")
    head = ("query", "rows", "kg", "oxigraph", "kg/ox", "rows", "kg", "oxigraph", "rdflib", "rdflib/kg")
    line = "{:22} {:>6} {:>8} {:>9} {:>6}    | {:>6} {:>8} {:>9} {:>9} {:>10}"
    print(line.format(*head))
    for q in QUERIES:
        n = q.name
        full = (rows(measurements, "full", n), ms(kg, n), ms(ox, n), ratio(kg, ox, n, ".2f"))
        part = (rows(measurements, "slice", n), ms(skg, n), ms(sox, n), ms(srd, n), ratio(srd, skg, n, ".1f"))
        print(line.format(n, *full, *part))
    print()
    for m in measurements:
        print(
            f"throughput {m.target:8} on {m.data:5} data: {m.qps:8.1f} queries/s ({m.completed} queries;"
            f" load and start {m.setup:.1f} s)"
        )


def aim_line(label: str, value: str, aim: str, ok: bool) -> None:
    print(f"{label:48} {value:>7}   aim {aim:8} {verdict(ok)}")


def report_aims(measurements: list[Measurement]) -> None:
    """The aims with PASS/MISS, or why one could not be judged."""
    kg, ox = find(measurements, "kg", "full"), find(measurements, "oxigraph", "full")
    skg, srd = find(measurements, "kg", "slice"), find(measurements, "rdflib", "slice")
    print()
    if kg and ox:
        slower = geomean([kg.medians[q.name] / ox.medians[q.name] for q in QUERIES])
        aim_line(
            "kg/oxigraph latency, geometric mean of medians",
            f"{slower:.2f}",
            f"<= {LATENCY_AIM}",
            slower <= LATENCY_AIM,
        )
        share = kg.qps / ox.qps
        aim_line("kg/oxigraph throughput", f"{share:.2f}", f">= {THROUGHPUT_AIM}", share >= THROUGHPUT_AIM)
    else:
        print("kg/oxigraph: not measured (needs kg and oxigraph)")
    if skg and srd:
        faster = geomean([srd.medians[q.name] / skg.medians[q.name] for q in QUERIES])
        aim_line(
            "kg vs rdflib-endpoint on the slice, latency",
            f"{faster:.1f}x",
            f">= {RDFLIB_AIM:.0f}x",
            faster >= RDFLIB_AIM,
        )
        more = skg.qps / srd.qps
        aim_line(
            "kg vs rdflib-endpoint on the slice, throughput",
            f"{more:.1f}x",
            f">= {RDFLIB_AIM:.0f}x",
            more >= RDFLIB_AIM,
        )
    else:
        print("kg vs rdflib-endpoint: not measured (needs kg and rdflib)")


# -- main -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="about how many (default 1,000,000)")
    parser.add_argument("--slice", type=int, default=100_000, help="triples in the slice (default 100,000)")
    parser.add_argument("--reps", type=int, default=20, help="repetitions per query (default 20)")
    parser.add_argument("--rdflib-reps", type=int, help="for rdflib-endpoint (default: as --reps)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up runs per query (default 3; rdflib 1)")
    parser.add_argument("--duration", type=float, default=15.0, help="throughput seconds (default 15)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--keep", type=Path, help="work in DIR and leave data, stores and logs there")
    parser.add_argument("--only", default="kg,oxigraph,rdflib", help="targets (default kg,oxigraph,rdflib)")
    args = parser.parse_args()
    args.rdflib_reps = args.rdflib_reps or args.reps
    args.only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = set(args.only) - set(STARTERS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {sorted(STARTERS)}")
    return args


def plan(only: list[str]) -> dict[str, list[str]]:
    """Targets per data set; rdflib-endpoint (in memory) gets only the slice. A kg without a `serve`
    command is left out, loudly."""
    if "kg" in only and kg_serve_options() is None:
        print("kg: `kg serve --help` fails: this kg has no serve command yet; kg is not measured", flush=True)
        only = [t for t in only if t != "kg"]
    runs = {"full": ["kg", "oxigraph"], "slice": ["kg", "oxigraph", "rdflib"]}
    return {data: [t for t in targets if t in only] for data, targets in runs.items()}


def run(work: Path, args: argparse.Namespace) -> int:
    load = os.getloadavg()[0]
    started = time.perf_counter()
    full, part = generate(work / "bsbm.nt", work / "bsbm-slice.nt", args.triples, args.slice)
    generation = time.perf_counter() - started
    print(f"sparql benchmark ({os.cpu_count()} cores, load average at start {load:.2f})")
    for label, d in (("full ", full), ("slice", part)):
        size, products = d.path.stat().st_size / 1e6, len(d.products)
        print(
            f"{label} {d.triples:>9,} triples, {size:.0f} MB: {products:,} products, {d.offers:,} offers,"
            f" {d.reviews:,} reviews, {d.vendors} vendors, {d.reviewers:,} reviewers"
        )
    print(
        f"generated in {generation:.1f} s (seed {SEED}); the slice is the full file's first {part.triples:,}"
    )
    print("lines, cut after a whole product: a closed subset (every entity it mentions is described in it)")
    print(
        f"client: httpx, POST form query=; latency: {args.warmup} warm-up runs, then {args.reps} parameter"
        f" sets per query (rdflib {args.rdflib_reps}),\nservers on the same data taking turns per request;"
    )
    print(
        f"throughput: {args.clients} clients (threads), {args.duration:.0f} s per server in {ROUNDS} rounds"
        " alternating between servers, one server loaded at a time"
    )
    count_sets = max(args.reps, args.rdflib_reps) + args.warmup
    datasets = {"full": full, "slice": part}
    measurements = []
    for data, targets in plan(args.only).items():
        if targets:
            mix = draw_mix(datasets[data], count_sets, SEED)
            measurements += measure(data, targets, datasets[data], mix, work, args)
    report_table(measurements)
    report_aims(measurements)
    return check(measurements)


def check(measurements: list[Measurement]) -> int:
    """Print request failures and count disagreements; exit status 1 if there were any."""
    errors = [f"{m.target} on {m.data} data: {e}" for m in measurements for e in m.errors]
    differ = disagreements(measurements)
    if not errors and not differ:
        print("result counts: the servers agree on every query and parameter set, on each data set")
        return 0
    for line in errors[:20]:
        print(f"REQUEST FAILED  {line}")
    for line in differ[:40]:
        print(f"COUNTS DIFFER   {line}")
    print(f"FAILED: {len(errors)} failed requests, {len(differ)} disagreements")
    return 1


def main() -> None:
    args = parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        sys.exit(run(args.keep, args))
    with tempfile.TemporaryDirectory(prefix="kg-bench-sparql-") as tmp:
        sys.exit(run(Path(tmp), args))


if __name__ == "__main__":
    main()
