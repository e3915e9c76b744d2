"""`kg ontology check`: HermiT over the ontology files (kg.reasoning). Each run costs ~1-2 s of Java."""

from __future__ import annotations

import shutil
from pathlib import Path

import owlready2
import pytest

from kg.paths import ontology_dir
from kg.reasoning import ReasonerError, check_consistency

DATA = Path(__file__).parent / "data" / "ontology"
BROKEN = "http://example.org/broken#"

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")


@needs_java
def test_shipped_ontology_is_consistent_and_untouched():
    files = [ontology_dir() / "oda.ttl", ontology_dir() / "kg.ttl"]
    before = [f.read_bytes() for f in files]
    report = check_consistency()
    assert report.consistent, report.message
    assert report.unsatisfiable == []
    assert report.ok
    assert report.seconds > 0
    assert [f.read_bytes() for f in files] == before  # nothing inferred into our files


@needs_java
def test_unsatisfiable_classes_are_named():
    report = check_consistency([ontology_dir() / "oda.ttl", DATA / "unsatisfiable.ttl"])
    assert report.consistent
    # A subclass of two disjoint classes, and an ISGRI energy outside ISGRI's 15-800 keV.
    assert report.unsatisfiable == [BROKEN + "FloatAndInteger", BROKEN + "ISGRIEnergyAt1000keV"]
    assert not report.ok
    assert BROKEN + "FloatAndInteger" in report.message


@needs_java
def test_contradictory_facts_are_inconsistent():
    report = check_consistency([ontology_dir() / "oda.ttl", DATA / "inconsistent.ttl"])
    assert not report.consistent
    assert not report.ok
    assert "Inconsistent" in report.message


@needs_java
def test_what_hermit_refuses_is_explained_without_a_stack_trace():
    with pytest.raises(ReasonerError, match="facet takes only floats") as caught:
        check_consistency([ontology_dir() / "oda.ttl", DATA / "unsupported-facet.ttl"])
    assert "\tat org.semanticweb" not in str(caught.value)


def test_missing_java_is_explained(monkeypatch):
    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/bin/java")
    with pytest.raises(ReasonerError, match="needs Java"):
        check_consistency()
