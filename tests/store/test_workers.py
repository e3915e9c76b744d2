"""Query workers: real processes over a real on-disk store, timed out by killing them."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path

import pytest
import uvloop
from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, RdfFormat, Triple

from kg.store import EmbeddedStore, QuerySyntaxError, StoreError
from kg.store.base import in_graph
from kg.store.execution import QueryRequest, QueryResponse, QueryRunner, QueryTimeout, RowLimitExceeded
from kg.store.workers import InlineRunner, WorkerPool, checkpoints_directory

EX = "http://example.org/"
G1, G2 = NamedNode(f"{EX}g1"), NamedNode(f"{EX}g2")
PEOPLE = 3000  # enough for the cross join below to run for hours
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LOOKUP = f"SELECT ?name WHERE {{ <{EX}person7> <{EX}name> ?name }}"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def request(sparql: str, **options: object) -> QueryRequest:
    values: dict[str, object] = {
        "solutions_format": QueryResultsFormat.JSON,
        "graph_format": RdfFormat.TURTLE,
        "timeout": 10.0,
        "row_limit": 10_000,
    }
    return QueryRequest(sparql, **{**values, **options})  # type: ignore[arg-type]


def fill(store: EmbeddedStore) -> None:
    """People in g1, awkward literals and a blank node in g2, one triple in the default graph."""
    name, knows, note = NamedNode(f"{EX}name"), NamedNode(f"{EX}knows"), NamedNode(f"{EX}note")
    people = [NamedNode(f"{EX}person{i}") for i in range(PEOPLE)]
    awkward = ["tab\there", "line\nbreak", 'quote " and \\ back', "é ☃ \u2028", ""]
    g2 = [Triple(people[0], note, Literal(text, language="en")) for text in awkward]
    g2 += [
        Triple(people[1], knows, BlankNode("someone")),
        Triple(BlankNode("someone"), name, Literal("4.5e0", datatype=NamedNode(f"{EX}unit"))),
    ]
    g1 = [Triple(person, name, Literal(f"Person {i}")) for i, person in enumerate(people)]
    store.replace_graphs({G1: in_graph(G1, g1), G2: in_graph(G2, g2)})
    store.update(f"INSERT DATA {{ <{EX}person2> <{EX}age> 42 }}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, WorkerPool]]:
    """One store and pool for the tests that leave the pool as they found it."""
    store = EmbeddedStore(tmp_path_factory.mktemp("served") / "store")
    fill(store)
    pool = WorkerPool(store)
    yield store, pool
    pool.close()
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "store") as owner:
        fill(owner)
        yield owner


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes still alive (fields 14 and 15 of /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def cpu_used_over(pids: list[int], seconds: float) -> float:
    start = cpu_seconds(pids)
    time.sleep(seconds)
    return cpu_seconds(pids) - start


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def in_thread(runner: QueryRunner, query: QueryRequest) -> tuple[threading.Thread, dict[str, object]]:
    """Run `query` in a thread; the outcome (response or error) and its duration land in the dict."""
    outcome: dict[str, object] = {}

    def target() -> None:
        started = time.monotonic()
        try:
            outcome["result"] = runner.run(query)
        except StoreError as error:
            outcome["result"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_for_workers(pool: WorkerPool, count: int) -> list[int]:
    deadline = time.monotonic() + 10
    while len(pids := pool.pids()) < count:
        assert time.monotonic() < deadline, "the replacement worker never became ready"
        time.sleep(0.01)
    return pids


SAME_AS_IN_PROCESS = [
    ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s ?o", QueryResultsFormat.JSON),
    ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s ?o", QueryResultsFormat.XML),
    ("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s ?o", QueryResultsFormat.CSV),
    ("SELECT ?s ?o ?unbound WHERE { ?s ?p ?o } ORDER BY ?s ?o", QueryResultsFormat.TSV),
    ("SELECT * WHERE {}", QueryResultsFormat.JSON),
    ("SELECT ?s WHERE { ?s ?p 'no such value' }", QueryResultsFormat.XML),
    (f"ASK {{ <{EX}person1> ?p ?o }}", QueryResultsFormat.JSON),
    ("ASK { ?s ?p 'no such value' }", QueryResultsFormat.XML),
    (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G2.value}> {{ ?s ?p ?o }} }}", RdfFormat.TURTLE),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", RdfFormat.N_TRIPLES),
    (f"DESCRIBE <{EX}person1>", RdfFormat.RDF_XML),
    (f"CONSTRUCT WHERE {{ <{EX}person0> ?p ?o }}", RdfFormat.JSON_LD),
]


@pytest.mark.parametrize(("sparql", "format"), SAME_AS_IN_PROCESS)
def test_answers_are_byte_identical_to_the_store_s_own(
    served: tuple[EmbeddedStore, WorkerPool], sparql: str, format: QueryResultsFormat | RdfFormat
) -> None:
    store, pool = served
    kind = "solutions_format" if isinstance(format, QueryResultsFormat) else "graph_format"
    response = pool.run(request(sparql, **{kind: format}))
    assert response.body == store.query(sparql).serialize(format=format)
    expected_kind = "boolean" if sparql.startswith("ASK") else "solutions" if sparql[0] == "S" else "graph"
    assert response.kind == expected_kind


def test_named_graphs_make_the_dataset(served: tuple[EmbeddedStore, WorkerPool]) -> None:
    store, pool = served
    sparql = "SELECT ?g (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g"
    response = pool.run(request(sparql, default_graph=(G2.value,), named_graphs=(G1.value,)))
    expected = store.query(sparql, default_graph=[G2], named_graphs=[G1])
    assert response.body == expected.serialize(format=QueryResultsFormat.JSON)


def test_a_write_is_seen_by_the_next_query_and_old_checkpoints_go(
    served: tuple[EmbeddedStore, WorkerPool],
) -> None:
    store, pool = served
    for round in range(4):
        store.update(f"INSERT DATA {{ GRAPH <{EX}g3> {{ <{EX}counter> <{EX}value> {round} }} }}")
        pool.store_changed()
        for _ in range(pool.size):  # every worker, whichever checkpoint it had open
            body = pool.run(request(f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}counter> ?p ?o }}")).body
            assert f'"value":"{round + 1}"' in body.decode()
    # The newest checkpoint, plus at most one older one per worker that has not run since.
    assert 1 <= len(list(checkpoints_directory(store.location).iterdir())) <= pool.size + 1
    store.update(f"DROP GRAPH <{EX}g3>")
    pool.store_changed()


def test_a_syntax_error_carries_the_parser_s_position(served: tuple[EmbeddedStore, WorkerPool]) -> None:
    _, pool = served
    with pytest.raises(QuerySyntaxError, match=r"2:\d+"):
        pool.run(request("SELECT *\nWHERE { ?s ?p }"))
    assert pool.run(request(LOOKUP)).body.count(b"Person 7") == 1


@pytest.fixture(params=["pool", "inline"])
def runner(request: pytest.FixtureRequest, served: tuple[EmbeddedStore, WorkerPool]) -> QueryRunner:
    store, pool = served
    return pool if request.param == "pool" else InlineRunner(store)


@pytest.mark.parametrize(
    ("sparql", "rows"),
    [
        (f"SELECT ?s WHERE {{ GRAPH <{G1.value}> {{ ?s ?p ?o }} }}", PEOPLE),
        (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1.value}> {{ ?s ?p ?o }} }}", PEOPLE),
    ],
)
def test_past_the_row_limit_nothing_is_sent(runner: QueryRunner, sparql: str, rows: int) -> None:
    assert runner.run(request(sparql, row_limit=rows)).body
    with pytest.raises(RowLimitExceeded, match=f"more than {rows - 1} "):
        runner.run(request(sparql, row_limit=rows - 1))
    assert b"Person 7" in runner.run(request(LOOKUP)).body


def test_inline_runner_answers_like_the_pool(served: tuple[EmbeddedStore, WorkerPool]) -> None:
    store, pool = served
    query = request("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s ?o", solutions_format=QueryResultsFormat.XML)
    assert InlineRunner(store).run(query) == pool.run(query)


def test_a_runaway_query_is_killed_and_others_are_answered_meanwhile(store: EmbeddedStore) -> None:
    with WorkerPool(store, workers=2) as pool:
        workers = pool.pids()
        runaway, outcome = in_thread(pool, request(RUNAWAY, timeout=1.0))
        time.sleep(0.3)
        assert cpu_used_over(workers, 0.3) > 0.15  # the runaway query keeps a core busy (2 cores, shared)

        started = time.monotonic()
        assert b"Person 7" in pool.run(request(LOOKUP)).body
        assert time.monotonic() - started < 0.2

        runaway.join()
        assert isinstance(outcome["result"], QueryTimeout)
        assert str(outcome["result"]) == "query stopped after 1 s"
        assert 1.0 <= outcome["seconds"] < 1.5  # type: ignore[operator]
        assert [alive(pid) for pid in workers].count(False) == 1

        survivors = wait_for_workers(pool, 2)
        assert len(set(survivors) - set(workers)) == 1  # one replacement
        assert cpu_used_over(survivors, 0.5) < 0.05
        for _ in range(4):  # both workers, the replacement included, serve
            assert b"Person 7" in pool.run(request(LOOKUP)).body


def test_waiting_for_a_busy_worker_counts_and_a_dead_worker_is_replaced(store: EmbeddedStore) -> None:
    with WorkerPool(store, workers=1) as pool:
        [worker] = pool.pids()
        runaway, outcome = in_thread(pool, request(RUNAWAY, timeout=30.0))
        time.sleep(0.2)

        started = time.monotonic()
        with pytest.raises(QueryTimeout, match="busy"):
            pool.run(request(LOOKUP, timeout=0.3))
        assert 0.3 <= time.monotonic() - started < 0.6

        os.kill(worker, signal.SIGKILL)  # as the OOM killer would
        runaway.join(timeout=5)
        error = outcome["result"]
        assert isinstance(error, StoreError) and not isinstance(error, QueryTimeout)
        assert "died" in str(error) and "SIGKILL" in str(error)
        assert b"Person 7" in pool.run(request(LOOKUP)).body  # waits for the replacement
        assert pool.pids() != [worker]


def test_close_leaves_no_process_and_no_checkpoint(store: EmbeddedStore) -> None:
    pool = WorkerPool(store, workers=2)
    runaway, outcome = in_thread(pool, request(RUNAWAY, timeout=30.0))
    pool.run(request(LOOKUP))
    workers = pool.pids()
    pool.close()
    runaway.join(timeout=5)
    assert isinstance(outcome["result"], StoreError)
    assert not any(alive(pid) for pid in workers)
    assert not checkpoints_directory(store.location).exists()
    with pytest.raises(StoreError, match="shutting down"):
        pool.run(request(LOOKUP))
    # The store itself is untouched and still the owner's.
    assert store.select(LOOKUP) == [{"name": Literal("Person 7")}]


def test_a_pool_cleans_checkpoints_left_by_a_killed_server(store: EmbeddedStore) -> None:
    leftover = checkpoints_directory(store.location) / "00000007"
    leftover.mkdir(parents=True)
    with WorkerPool(store, workers=1) as pool:
        assert not leftover.exists()
        assert isinstance(pool.run(request(LOOKUP)), QueryResponse)


def test_memory_stores_are_refused() -> None:
    with EmbeddedStore("memory:") as memory, pytest.raises(ValueError, match="InlineRunner"):
        WorkerPool(memory)


def run_on_uvloop(coroutine: Coroutine[object, object, QueryResponse]) -> QueryResponse:
    """On the loop `kg serve` runs (uvicorn[standard] picks uvloop), whose watched descriptors
    turn non-blocking."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def test_the_async_path_answers_like_the_threaded_one(served: tuple[EmbeddedStore, WorkerPool]) -> None:
    _, pool = served
    everyone = request(f"SELECT ?s ?o WHERE {{ GRAPH <{G1.value}> {{ ?s ?p ?o }} }} ORDER BY ?s")
    for query in (request(LOOKUP), everyone, request(LOOKUP)):
        assert run_on_uvloop(pool.run_async(query)) == pool.run(query)
    assert len(pool.run(everyone).body) > 65536  # larger than a pipe's buffer: recv must block


def test_the_async_path_kills_a_runaway_query_without_blocking_the_loop(store: EmbeddedStore) -> None:
    async def race(pool: WorkerPool) -> tuple[object, bytes, float]:
        started = time.monotonic()
        runaway = asyncio.ensure_future(pool.run_async(request(RUNAWAY, timeout=1.0)))
        await asyncio.sleep(0.2)
        lookup = (await pool.run_async(request(LOOKUP))).body
        looked_up = time.monotonic() - started
        outcome = (await asyncio.gather(runaway, return_exceptions=True))[0]
        return outcome, lookup, looked_up

    with WorkerPool(store, workers=2) as pool:
        workers = pool.pids()
        outcome, lookup, looked_up = run_on_uvloop(race(pool))  # type: ignore[arg-type]
        assert isinstance(outcome, QueryTimeout) and str(outcome) == "query stopped after 1 s"
        assert b"Person 7" in lookup and looked_up < 0.5
        assert [alive(pid) for pid in workers].count(False) == 1
        assert cpu_used_over(wait_for_workers(pool, 2), 0.5) < 0.05


def test_a_cancelled_async_query_gives_its_worker_back(store: EmbeddedStore) -> None:
    """A caller that goes away (the server cancels its task) costs no worker: with one worker,
    the next query runs as soon as the abandoned one is stopped at its own limit."""

    async def abandon(pool: WorkerPool) -> None:
        task = asyncio.ensure_future(pool.run_async(request(RUNAWAY, timeout=1.0)))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with WorkerPool(store, workers=1) as pool:
        asyncio.run(abandon(pool))
        started = time.monotonic()
        assert b"Person 7" in pool.run(request(LOOKUP, timeout=5.0)).body
        assert time.monotonic() - started < 2.5
