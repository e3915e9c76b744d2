"""Giving query variables values without pasting user input into SPARQL text.

Values travel as a `VALUES` data block inserted at the start of the query's WHERE group,
each value serialised by pyoxigraph as an RDF term (quotes, braces and newlines escaped),
so a value can never change the query's structure. Placed first in the group, the block
binds the variable for every pattern and FILTER of the query, projected or not, and it
works the same on the embedded store and on any SPARQL 1.1 endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyoxigraph import BlankNode, Literal, NamedNode

from kg.sparql_text import tokens
from kg.store.base import QuerySyntaxError

Term = NamedNode | BlankNode | Literal

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bind(query: str, bindings: Mapping[str, Term]) -> str:
    """`query` with its WHERE group opened by a VALUES block of `bindings`."""
    if not bindings:
        return query
    for name in bindings:
        if not _VARIABLE.match(name):
            raise QuerySyntaxError(f"cannot bind {name!r}: not a SPARQL variable name")
    for term in bindings.values():
        if isinstance(term, BlankNode):
            raise QuerySyntaxError("cannot bind a blank node: it would not match the store's blank nodes")
    brace = _where_brace(query)
    names = " ".join(f"?{name}" for name in bindings)
    row = " ".join(str(term) for term in bindings.values())
    return f"{query[: brace + 1]} VALUES ({names}) {{ ({row}) }} {query[brace + 1 :]}"


def _where_brace(query: str) -> int:
    """Index of the `{` opening the WHERE group, found outside strings, IRIs and comments."""
    depth, words = 0, []
    for token in tokens(query):
        if token.kind == "punct" and token.text == "{":
            if depth == 0 and _opens_where(words):
                return token.start
            depth += 1
        elif token.kind == "punct" and token.text == "}":
            depth -= 1
            if depth == 0:
                words.append("{}")
        elif depth == 0 and token.keyword:
            words.append(token.keyword)
    raise QuerySyntaxError("bindings need a query with a WHERE group")


def _opens_where(words: list[str]) -> bool:
    """Whether a top-level `{` after `words` is the WHERE group (not a CONSTRUCT template)."""
    if "WHERE" in words:
        if words[-1] == "WHERE" and len(words) >= 2 and words[-2] == "CONSTRUCT":
            raise QuerySyntaxError("bindings need the full CONSTRUCT { template } WHERE { pattern } form")
        return True
    return "SELECT" in words or "ASK" in words
