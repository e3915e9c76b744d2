"""The SPARQL 1.1 Service Description a GET on the endpoint without a query returns.

It tells generic clients what this endpoint speaks: languages, result formats, the union
default graph, and whether federation is possible at all.
"""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Triple, serialize

from api.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS
from api.settings import Settings
from kg.formats import FORMATS_NS, Format
from kg.namespaces import DCTERMS, RDF, Namespace

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace(FORMATS_NS)
SIMPLE_ENTAILMENT = NamedNode("http://www.w3.org/ns/entailment/Simple")
PREFIXES = {"sd": SD.iri, "formats": FORMATS.iri, "dcterms": DCTERMS.iri}


def describe(endpoint: str, settings: Settings) -> list[Triple]:
    """The description of the endpoint at `endpoint` (its URL as the client reached it)."""
    service, dataset, default_graph = BlankNode(), BlankNode(), BlankNode()
    features = [SD.UnionDefaultGraph]
    if settings.allowed_services:
        features.append(SD.BasicFederatedQuery)
    about_service = [
        (RDF.type, SD.Service),
        (SD.endpoint, NamedNode(endpoint)),
        (DCTERMS.title, Literal("oda-kg SPARQL endpoint")),
        (SD.supportedLanguage, SD.SPARQL11Query),
        (SD.supportedLanguage, SD.SPARQL11Update),
        (SD.defaultEntailmentRegime, SIMPLE_ENTAILMENT),
        *((SD.feature, feature) for feature in features),
        *((SD.resultFormat, _iri(f)) for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)),
        *((SD.inputFormat, _iri(f)) for f in GRAPH_FORMATS),
        (SD.defaultDataset, dataset),
    ]
    return [
        *(Triple(service, p, o) for p, o in about_service),
        Triple(dataset, RDF.type, SD.Dataset),
        Triple(dataset, SD.defaultGraph, default_graph),
        Triple(default_graph, RDF.type, SD.Graph),
        Triple(default_graph, DCTERMS.description, Literal("the union of all the store's graphs")),
    ]


def render(endpoint: str, settings: Settings, format: Format) -> bytes:
    return serialize(describe(endpoint, settings), format=format.rdf, prefixes=PREFIXES) or b""


def _iri(format: Format) -> NamedNode:
    return FORMATS[format.w3c]
