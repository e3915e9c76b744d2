"""What only the embedded store does: owning a directory, memory stores, atomic bulk import."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, Quad, RdfFormat, Triple, parse

from kg.namespaces import Namespace
from kg.store import EmbeddedStore, StoreError
from kg.store.base import in_graph

EX = Namespace("http://example.org/")
# Opens the store, says so, and holds it until its stdin closes.
HOLDER = """
import sys
from kg.store import EmbeddedStore
store = EmbeddedStore(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def held_by_another_process(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout and holder.stdout.readline() == "ready\n"
    yield path
    holder.communicate(timeout=10)


def quads_of(store: EmbeddedStore) -> set[Quad]:
    buffer = io.BytesIO()
    store.export(buffer, RdfFormat.N_QUADS)
    return set(parse(buffer.getvalue(), RdfFormat.N_QUADS))


def test_a_store_in_use_by_another_process_says_how_to_reach_it(held_by_another_process: Path) -> None:
    with pytest.raises(StoreError, match="in use by another process") as raised:
        EmbeddedStore(held_by_another_process)
    assert "kg serve" in str(raised.value)


def test_close_lets_another_opener_in(tmp_path: Path) -> None:
    EmbeddedStore(tmp_path / "store").close()
    with EmbeddedStore(tmp_path / "store") as reopened:
        assert reopened.named_graphs() == []


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.named_graphs()


def test_data_survives_reopening(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "a" / "b") as store:
        store.replace_graphs({EX.g: in_graph(EX.g, [Triple(EX.s, EX.p, Literal("kept"))])})
    with EmbeddedStore(tmp_path / "a" / "b") as store:
        assert store.ask('ASK { ?s ?p "kept" }')


def test_a_file_where_the_directory_should_be_is_reported(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("not a store")
    with pytest.raises(StoreError, match="cannot open the store"):
        EmbeddedStore(tmp_path / "store")


def test_memory_stores_are_separate_and_touch_no_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = EmbeddedStore("memory:"), EmbeddedStore("memory:")
    first.replace_graphs({EX.g: in_graph(EX.g, [Triple(EX.s, EX.p, EX.o)])})
    assert first.named_graphs() == [EX.g]
    assert second.named_graphs() == []
    assert list(tmp_path.iterdir()) == []


def write_ntriples(path: Path, count: int, *, broken_at: int) -> None:
    """`count` distinct triples with one unterminated literal on line `broken_at`."""
    with path.open("w") as out:
        for i in range(count):
            literal = '"broken' if i == broken_at else f'"value {i}"'
            out.write(f"<http://example.org/s{i}> <http://example.org/p> {literal} .\n")


def test_import_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.nt"
    write_ntriples(path, 20_000, broken_at=19_990)
    with EmbeddedStore(tmp_path / "store") as store:
        store.replace_graphs({EX.existing: in_graph(EX.existing, [Triple(EX.s, EX.p, EX.o)])})
        before = quads_of(store)
        with pytest.raises(StoreError, match=r"bad\.nt.*nothing was imported.*line 19991"):
            store.import_file(path, RdfFormat.N_TRIPLES, EX.g)
        assert quads_of(store) == before


@pytest.mark.slow
def test_import_writes_nothing_even_when_the_error_follows_a_full_loader_batch(tmp_path: Path) -> None:
    """pyoxigraph's bulk loader works in 1M-quad batches; a late error must not leave the first."""
    path = tmp_path / "bad.nt"
    write_ntriples(path, 1_200_000, broken_at=1_199_990)
    with EmbeddedStore(tmp_path / "store") as store:
        with pytest.raises(StoreError, match="nothing was imported"):
            store.import_file(path, RdfFormat.N_TRIPLES, EX.g)
        assert quads_of(store) == set()


def test_large_replacements_take_the_bulk_path_and_land_whole(tmp_path: Path) -> None:
    from kg.store.embedded import BULK_QUADS

    graphs = {
        EX[f"g{g}"]: in_graph(
            EX[f"g{g}"], [Triple(EX[f"s{i}"], EX.p, Literal(f"{g}/{i}")) for i in range(BULK_QUADS // 4 + 1)]
        )
        for g in range(4)
    }
    with EmbeddedStore(tmp_path / "store") as store:
        store.replace_graphs({EX.old: in_graph(EX.old, [Triple(EX.s, EX.p, Literal("old"))])})
        store.replace_graphs(graphs)
        expected = {q for quads in graphs.values() for q in quads}
        assert quads_of(store) == expected | {Quad(EX.s, EX.p, Literal("old"), EX.old)}
        store.replace_graphs({EX.g0: in_graph(EX.g0, [Triple(EX.s, EX.p, Literal("new"))])})
        assert [
            r["o"].value
            for r in store.select("SELECT ?o WHERE { GRAPH <http://example.org/g0> { ?s ?p ?o } }")
        ] == ["new"]
