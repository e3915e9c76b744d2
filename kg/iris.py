"""Minting of the platform's own IRIs.

IRIs are deterministic: the same notebook in the same repository, or the same object
name however it is spelled, always lands on the same node, so harvests and runs made at
different times meet in the graph.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from pyoxigraph import NamedNode

BASE = "https://w3id.org/oda-kg/"
ONTOLOGY_GRAPH = NamedNode(BASE + "graph/ontology")
EVENTS_GRAPH = NamedNode(BASE + "graph/events")
RULES_GRAPH = NamedNode(BASE + "graph/rules")


def short_hash(*parts: str, length: int = 12) -> str:
    """A stable hex digest of `parts`, long enough to keep IRIs unique in practice."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:length]


def workflow_key(repository: str, notebook_path: str) -> str:
    """The identifier shared by a workflow's IRI and its named graph."""
    stem = notebook_path.rsplit("/", 1)[-1].removesuffix(".ipynb")
    return f"{quote(stem, safe='')}-{short_hash(repository, notebook_path)}"


def workflow_iri(key: str) -> NamedNode:
    return NamedNode(f"{BASE}workflow/{key}")


def workflow_graph(key: str) -> NamedNode:
    return NamedNode(f"{BASE}graph/workflow/{key}")


def run_iri(run_id: str) -> NamedNode:
    return NamedNode(f"{BASE}run/{quote(run_id, safe='')}")


def run_graph(run_id: str) -> NamedNode:
    return NamedNode(f"{BASE}graph/run/{quote(run_id, safe='')}")


def member_iri(workflow: NamedNode, kind: str, name: str) -> NamedNode:
    """A parameter, output or resource node under its workflow (`kind` is e.g. `parameter`)."""
    return NamedNode(f"{workflow.value}/{kind}/{quote(name, safe='')}")


_OBJECT_SEPARATORS = re.compile(r"[\s_]+")


def normalise_object_name(name: str) -> str:
    """Fold the spellings astronomers use for one object: "Mrk 421", "Mrk421", "MRK_421"."""
    return _OBJECT_SEPARATORS.sub("", name).upper()


def object_iri(name: str) -> NamedNode:
    return NamedNode(f"{BASE}object/{quote(normalise_object_name(name), safe='')}")
