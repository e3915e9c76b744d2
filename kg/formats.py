"""Serialisation formats by user-facing name and media type.

One table shared by the CLI (`--format`) and, later, HTTP content negotiation, so a
format added here is available everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    rdf: RdfFormat | None = None
    results: QueryResultsFormat | None = None

    @property
    def has_graphs(self) -> bool:
        return self.rdf is not None and self.rdf.supports_datasets


RESULT_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("json", "application/sparql-results+json", results=QueryResultsFormat.JSON),
        Format("xml", "application/sparql-results+xml", results=QueryResultsFormat.XML),
        Format("csv", "text/csv", results=QueryResultsFormat.CSV),
        Format("tsv", "text/tab-separated-values", results=QueryResultsFormat.TSV),
    )
}

RDF_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("turtle", "text/turtle", rdf=RdfFormat.TURTLE),
        Format("ntriples", "application/n-triples", rdf=RdfFormat.N_TRIPLES),
        Format("nquads", "application/n-quads", rdf=RdfFormat.N_QUADS),
        Format("trig", "application/trig", rdf=RdfFormat.TRIG),
        Format("jsonld", "application/ld+json", rdf=RdfFormat.JSON_LD),
        Format("rdfxml", "application/rdf+xml", rdf=RdfFormat.RDF_XML),
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
