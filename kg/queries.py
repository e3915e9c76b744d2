"""Named SPARQL queries stored as `.rq` files in `queries/`.

A query file opens with `#` header lines (`# title:`, `# description:`, and one
`# param: name — what it is` per variable the caller must bind); the rest is SPARQL.
The same files serve `kg query --name`, the JSON API and the query UI's examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from kg.paths import queries_dir


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    title: str = ""
    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    """Variable name -> what the caller binds it to."""


def parse_named_query(name: str, text: str) -> NamedQuery:
    header: dict[str, str] = {}
    params: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "param":
            var, _, about = value.partition(" ")
            params[var.lstrip("?")] = about.strip(" -—")
        else:
            header[key] = value
    return NamedQuery(name, text, header.get("title", name), header.get("description", ""), params)


@cache
def named_queries(directory: Path | None = None) -> dict[str, NamedQuery]:
    """Every named query by name (the file stem), read once per process."""
    directory = directory or queries_dir()
    return {p.stem: parse_named_query(p.stem, p.read_text()) for p in sorted(directory.glob("*.rq"))}


def get_named_query(name: str) -> NamedQuery:
    queries = named_queries()
    if name not in queries:
        known = ", ".join(queries) or "none"
        raise KeyError(f"no named query {name!r} (known: {known})")
    return queries[name]
