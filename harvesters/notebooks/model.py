"""What a harvested notebook describes, before it becomes RDF."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import Triple

from .annotations import IRI, Value


@dataclass
class Parameter:
    name: str
    position: int
    classes: list[str] = field(default_factory=list)
    default: object = None
    """The literal default; None means no default (the parameter is optional)."""
    datatype: str | None = None
    """The XSD datatype values must have (from the annotation, else from the default)."""
    unit: str | None = None
    lower_limit: float | None = None
    upper_limit: float | None = None
    allowed_values: list[Value] = field(default_factory=list)
    label: str | None = None
    description: str | None = None
    group: str | None = None
    format: str | None = None
    optional: bool = False
    common_name: str | None = None
    annotation: str | None = None
    python_type: str | None = None
    extra: list[tuple[str, list[IRI | Value]]] = field(default_factory=list)
    """Further annotated properties, written as they were given."""


@dataclass
class Output:
    name: str
    classes: list[str] = field(default_factory=list)
    label: str | None = None
    description: str | None = None
    is_comment: bool = False
    annotation: str | None = None
    extra: list[tuple[str, list[IRI | Value]]] = field(default_factory=list)


@dataclass
class Repository:
    """Where notebooks come from: a directory, usually a git working tree."""

    root: str
    """Absolute path of the repository's root directory."""
    iri: str
    """`schema:codeRepository`: the git remote URL, or the directory as a file: IRI."""
    commit: str | None = None
    help_text: str | None = None
    acknowledgements: str | None = None


@dataclass
class Workflow:
    key: str
    name: str
    notebook_path: str
    """Path relative to the repository root, with `/` separators."""
    repository: Repository
    content_hash: str
    is_test: bool = False
    parameters: list[Parameter] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    statements: list[Triple] = field(default_factory=list)
    """Notebook-level annotations (version, reference, resources) as triples."""
