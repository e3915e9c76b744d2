"""How a location names a backend, and where the store lives when none is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.store import EmbeddedStore, RemoteStore, open_store


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KG_STORE", raising=False)
    return tmp_path


def test_default_is_kg_store_in_the_working_directory(workdir: Path) -> None:
    with open_store() as store:
        assert isinstance(store, EmbeddedStore)
    assert (workdir / ".kg" / "store").is_dir()


def test_kg_store_variable_names_the_default(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_STORE", str(workdir / "elsewhere"))
    with open_store() as store:
        assert store.location == str(workdir / "elsewhere")
    assert not (workdir / ".kg").exists()


def test_a_directory_is_created_with_its_parents(workdir: Path) -> None:
    with open_store("deep/down/store") as store:
        assert isinstance(store, EmbeddedStore)
    assert (workdir / "deep" / "down" / "store").is_dir()


def test_memory_touches_no_disk(workdir: Path) -> None:
    with open_store("memory:") as store:
        assert isinstance(store, EmbeddedStore)
        assert store.location == "memory:"
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("url", ["http://localhost:7878", "https://kg.example.org/sparql"])
def test_urls_open_a_remote_store(url: str) -> None:
    with open_store(url) as store:
        assert isinstance(store, RemoteStore)
        assert store.location == url
