"""`kg ontology check`: is the ontology logically sound, according to HermiT?

A contradiction in `oda.ttl` or `kg.ttl` (a class no parameter could ever belong to, or
facts that cannot all hold) would make every inference built on it meaningless, so the
check runs the full OWL 2 reasoner. owlready2 drives HermiT (Java); it cannot read Turtle,
so the files go through pyoxigraph into N-Triples, and into a fresh in-memory world so
nothing inferred is written anywhere.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import owlready2
from pyoxigraph import RdfFormat, parse, serialize

from kg.ontology import INDEX_FILES
from kg.paths import ontology_dir

_NOTHING = "http://www.w3.org/2002/07/owl#Nothing"


class ReasonerError(RuntimeError):
    """HermiT could not give an answer: no Java runtime, or it refused the ontology."""


@dataclass
class ReasoningReport:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable


def check_consistency(paths: Sequence[Path] | None = None) -> ReasoningReport:
    """Run HermiT over Turtle files (default: the shipped oda.ttl and kg.ttl)."""
    paths = list(paths) if paths is not None else [ontology_dir() / name for name in INDEX_FILES]
    _require_java()
    world = owlready2.World()
    for path in paths:
        _load_turtle(world, path)
    started = time.perf_counter()
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except owlready2.OwlReadyJavaError as error:
        raise ReasonerError(f"HermiT could not process the ontology: {_java_cause(error)}") from error
    except owlready2.OwlReadyInconsistentOntologyError:
        return ReasoningReport(
            consistent=False,
            message="Inconsistent: the ontology's facts contradict each other (e.g. an individual "
            "belongs to two disjoint classes).",
            seconds=time.perf_counter() - started,
        )
    seconds = time.perf_counter() - started
    unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c.iri != _NOTHING)
    if unsatisfiable:
        names = ", ".join(unsatisfiable)
        message = f"Consistent, but {len(unsatisfiable)} class(es) can have no members: {names}"
    else:
        message = f"Consistent; every class is satisfiable ({len(paths)} file(s), HermiT {seconds:.1f} s)."
    return ReasoningReport(consistent=True, unsatisfiable=unsatisfiable, message=message, seconds=seconds)


def _require_java() -> None:
    if shutil.which(owlready2.JAVA_EXE) is None:
        raise ReasonerError(
            f"The HermiT reasoner needs Java, and {owlready2.JAVA_EXE!r} was not found: install a Java "
            "runtime (17 or later) or set owlready2.JAVA_EXE to the java executable."
        )


def _java_cause(error: owlready2.OwlReadyJavaError) -> str:
    """The Java exception's message, without owlready2's preamble and the stack trace."""
    for line in str(error).splitlines():
        if "Exception" in line:
            return line.split(": ", 1)[-1]
    return str(error)


def _load_turtle(world: owlready2.World, path: Path) -> None:
    """Load one Turtle file into `world` as its own ontology (owlready2 reads N-Triples, not Turtle)."""
    ntriples = serialize(parse(path=path, format=RdfFormat.TURTLE), format=RdfFormat.N_TRIPLES)
    world.get_ontology(path.resolve().as_uri()).load(fileobj=io.BytesIO(ntriples), format="ntriples")
