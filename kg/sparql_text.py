"""Reading SPARQL text just far enough to find keywords, braces and IRIs, without parsing it.

Binding values (where the WHERE group opens), content negotiation (the query form, known
before the query runs) and the endpoint's federation policy (SERVICE and LOAD targets)
all look inside SPARQL text. They share this lexer so that a keyword inside a string, an
IRI, a prefixed name, a variable or a comment is never taken for a keyword.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin

from pyoxigraph import NamedNode

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
   |(?P<string>\"\"\"(?:[^"\\]|\\[\s\S]|"{1,2}(?!"))*\"\"\"|'''(?:[^'\\]|\\[\s\S]|'{1,2}(?!'))*'''
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
   |(?P<iri><[^<>"{}|^`\\\s]*>)
   |(?P<var>[?$]\w+)
   |(?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w:%-]|\\.|\.(?=[\w:%-]))*)
   |(?P<word>\w+)
   |(?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    """`string`, `iri`, `var`, `pname`, `word` (keywords, numbers) or `punct` (one character)."""
    text: str
    start: int

    @property
    def keyword(self) -> str | None:
        """The upper-cased word when this token can be a keyword."""
        return self.text.upper() if self.kind == "word" else None


def tokens(text: str) -> Iterator[Token]:
    """The tokens of `text`, whitespace and comments left out, lexed as they are asked for:
    the query form and the WHERE brace are near the start of a long query."""
    for match in _TOKEN.finditer(text):
        if (kind := match.lastgroup or "punct") != "space":
            yield Token(kind, match.group(), match.start())


#: Every keyword `_clauses` looks for contains one of these words.
_CLAUSE_WORDS = re.compile(r"SERVICE|LOAD|FROM", re.IGNORECASE)


@lru_cache(maxsize=64)
def _lexed(text: str) -> tuple[Token, ...]:
    """Lexed once per text: serving a query asks both its dataset and its SERVICE targets."""
    return tuple(tokens(text))


def query_form(text: str) -> str | None:
    """`SELECT`, `CONSTRUCT`, `DESCRIBE` or `ASK`: the first keyword after the prologue.

    None when the text starts with anything else (an update, or not SPARQL at all).
    """
    for token in tokens(text):
        if token.keyword in ("BASE", "PREFIX"):
            continue
        if token.kind == "word":
            return token.keyword if token.keyword in QUERY_FORMS else None
    return None


def remote_targets(text: str) -> list[tuple[str, str | None]]:
    """`(keyword, IRI)` for every SERVICE and LOAD: what the store would fetch from elsewhere.

    The IRI is None when the target is a variable or cannot be resolved.
    """
    return [(keyword, iri) for keyword, iri in _clauses(text) if keyword in ("SERVICE", "LOAD")]


def query_dataset(query: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The IRIs of a query's FROM and of its FROM NAMED clauses."""
    clauses = [(keyword, iri) for keyword, iri in _clauses(query) if iri and _absolute(iri)]
    return (
        tuple(iri for keyword, iri in clauses if keyword == "FROM"),
        tuple(iri for keyword, iri in clauses if keyword == "FROM NAMED"),
    )


def _clauses(text: str) -> Iterator[tuple[str, str | None]]:
    """`(keyword, IRI)` for SERVICE, LOAD, FROM and FROM NAMED, in order.

    Prefixed names and relative IRIs are resolved through the PREFIX and BASE declarations met
    so far, as the parser does (an update's later operations see its earlier ones' too); None
    when the IRI cannot be.
    """
    if not _CLAUSE_WORDS.search(text):  # lexing costs ~0.3 ms for a 1 KB query; most have none
        return
    prefixes: dict[str, str] = {}
    base = ""
    items = _lexed(text)
    for index, token in enumerate(items):
        following = items[index + 1 : index + 3]
        if token.keyword == "BASE" and following:
            base = _resolve(following[0], prefixes, base) or base
        elif token.keyword == "PREFIX" and len(following) == 2 and following[0].kind == "pname":
            iri = _resolve(following[1], prefixes, base)
            if iri is not None:
                prefixes[following[0].text[:-1]] = iri
        elif token.keyword in ("SERVICE", "LOAD", "FROM"):
            keyword = token.keyword
            if following and following[0].keyword in ("SILENT", "NAMED"):
                keyword = "FROM NAMED" if following[0].keyword == "NAMED" else keyword
                following = following[1:]
            yield keyword, _resolve(following[0], prefixes, base) if following else None


def using_conflict(update: str) -> str | None:
    """What in an update leaves no room for the protocol's using-graph-uri parameters:
    its own USING or WITH, or a DELETE WHERE (whose grammar takes no USING); None if nothing."""
    previous = None
    for token in tokens(update):
        if token.keyword in ("USING", "WITH"):
            return token.keyword
        if previous == "DELETE" and token.keyword == "WHERE":
            return "DELETE WHERE"
        previous = token.keyword
    return None


def add_using(update: str, graphs: Sequence[NamedNode], named_graphs: Sequence[NamedNode]) -> str:
    """`update` with USING / USING NAMED clauses before the WHERE of each of its operations,
    which is what using-graph-uri / using-named-graph-uri mean; ValueError on a `using_conflict`."""
    conflict = using_conflict(update)
    if conflict:
        raise ValueError(f"using-graph-uri cannot apply to an update with {conflict}")
    clauses = " ".join([f"USING {iri}" for iri in graphs] + [f"USING NAMED {iri}" for iri in named_graphs])
    depth, cuts = 0, []
    for token in tokens(update):
        if token.kind == "punct" and token.text in "{}":
            depth += 1 if token.text == "{" else -1
        elif depth == 0 and token.keyword == "WHERE":
            cuts.append(token.start)
    for cut in reversed(cuts):
        update = f"{update[:cut]}{clauses} {update[cut:]}"
    return update


def _absolute(iri: str) -> bool:
    try:
        NamedNode(iri)
    except ValueError:
        return False
    return True


def _resolve(token: Token, prefixes: dict[str, str], base: str) -> str | None:
    if token.kind == "iri":
        return urljoin(base, token.text[1:-1]) if base else token.text[1:-1]
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        namespace = prefixes.get(prefix)
        return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
    return None
