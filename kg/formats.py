"""Serialisation formats by user-facing name and media type.

One table shared by the CLI (`--format`) and HTTP content negotiation (`api.negotiation`),
so a format added here is available everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat

FORMATS_NS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    rdf: RdfFormat | None = None
    results: QueryResultsFormat | None = None
    aliases: tuple[str, ...] = ()
    """Other media types clients ask for meaning this format (`application/json` for JSON results)."""
    w3c: str = ""
    """Local name of the format's IRI in http://www.w3.org/ns/formats/, for service descriptions."""

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    @property
    def has_graphs(self) -> bool:
        return self.rdf is not None and self.rdf.supports_datasets


RESULT_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "json",
            "application/sparql-results+json",
            results=QueryResultsFormat.JSON,
            aliases=("application/json",),
            w3c="SPARQL_Results_JSON",
        ),
        Format(
            "xml",
            "application/sparql-results+xml",
            results=QueryResultsFormat.XML,
            aliases=("application/xml", "text/xml"),
            w3c="SPARQL_Results_XML",
        ),
        Format("csv", "text/csv", results=QueryResultsFormat.CSV, w3c="SPARQL_Results_CSV"),
        Format("tsv", "text/tab-separated-values", results=QueryResultsFormat.TSV, w3c="SPARQL_Results_TSV"),
    )
}

RDF_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "turtle", "text/turtle", rdf=RdfFormat.TURTLE, aliases=("application/x-turtle",), w3c="Turtle"
        ),
        Format("ntriples", "application/n-triples", rdf=RdfFormat.N_TRIPLES, w3c="N-Triples"),
        Format("nquads", "application/n-quads", rdf=RdfFormat.N_QUADS, w3c="N-Quads"),
        Format("trig", "application/trig", rdf=RdfFormat.TRIG, w3c="TriG"),
        Format(
            "jsonld",
            "application/ld+json",
            rdf=RdfFormat.JSON_LD,
            aliases=("application/json",),
            w3c="JSON-LD",
        ),
        Format(
            "rdfxml",
            "application/rdf+xml",
            rdf=RdfFormat.RDF_XML,
            aliases=("application/xml", "text/xml"),
            w3c="RDF_XML",
        ),
    )
}

_BY_SUFFIX = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".trig": "trig",
    ".jsonld": "jsonld",
    ".json": "jsonld",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
    ".xml": "rdfxml",
}


def rdf_format_for_path(path: str) -> Format:
    """The RDF format a file name implies; ValueError names the file when unknown."""
    lower = path.lower().removesuffix(".gz")
    for suffix, name in _BY_SUFFIX.items():
        if lower.endswith(suffix):
            return RDF_FORMATS[name]
    known = ", ".join(sorted(_BY_SUFFIX))
    raise ValueError(f"{path}: cannot tell the RDF format from the file name (known endings: {known})")
