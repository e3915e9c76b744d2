"""Writing query results in the format a user asked for."""

from __future__ import annotations

from typing import BinaryIO

from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, serialize
from rich.console import Console
from rich.table import Table

from kg.formats import RDF_FORMATS, RESULT_FORMATS
from kg.namespaces import PREFIXES
from kg.store.base import QueryResult
from kg.terms import curie

TABLE = "table"
FORMAT_NAMES = [TABLE, *RESULT_FORMATS, *RDF_FORMATS]


class FormatMismatch(ValueError):
    """A graph format for solutions, or a solutions format for a graph."""


def is_graph(result: QueryResult) -> bool:
    return not isinstance(result, QuerySolutions | QueryBoolean)


def write_result(result: QueryResult, fmt: str | None, out: BinaryIO, console: Console) -> None:
    """Serialise `result`; the default is a table for solutions and Turtle for graphs."""
    fmt = fmt or ("turtle" if is_graph(result) else TABLE)
    if is_graph(result):
        if fmt not in RDF_FORMATS:
            raise FormatMismatch(
                f"a CONSTRUCT/DESCRIBE result is a graph: use one of {', '.join(RDF_FORMATS)}"
            )
        out.write(serialize(result, format=RDF_FORMATS[fmt].rdf, prefixes=PREFIXES) or b"")
        return
    if fmt == TABLE:
        console.print(_table(result))
        return
    if fmt not in RESULT_FORMATS:
        raise FormatMismatch(
            f"a SELECT/ASK result is a table: use one of {TABLE}, {', '.join(RESULT_FORMATS)}"
        )
    out.write(result.serialize(format=RESULT_FORMATS[fmt].results) or b"")


def _table(result: QuerySolutions | QueryBoolean) -> Table | str:
    if isinstance(result, QueryBoolean):
        return "true" if result else "false"
    names = [v.value for v in result.variables]
    table = Table(*names)
    count = 0
    for row in result:
        table.add_row(*(_cell(row[n]) for n in names))
        count += 1
    table.caption = f"{count} row{'s' if count != 1 else ''}"
    return table


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return curie(term.value)
    return getattr(term, "value", str(term))
