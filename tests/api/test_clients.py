"""Third-party SPARQL clients against the server, as their users would call them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.error import HTTPError

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import GET, JSON, N3, POST, POSTDIRECTLY, RDFXML, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import Unauthorized

if TYPE_CHECKING:
    from tests.api.conftest import Server

NAMES = """PREFIX oda: <http://odahub.io/ontology#>
PREFIX schema: <http://schema.org/>
SELECT ?name WHERE { ?wf a oda:Workflow ; schema:name ?name } ORDER BY ?name"""
CONSTRUCT = """PREFIX oda: <http://odahub.io/ontology#>
PREFIX schema: <http://schema.org/>
CONSTRUCT { ?wf schema:name ?name } WHERE { ?wf a oda:Workflow ; schema:name ?name }"""


def _wrapper(served: Server, method: str, request_method: str = "urlencoded") -> SPARQLWrapper:
    client = SPARQLWrapper(f"{served.url}/sparql")
    client.setMethod(method)
    client.setRequestMethod(request_method)
    return client


@pytest.mark.parametrize(
    ("method", "request_method"), [(GET, "urlencoded"), (POST, "urlencoded"), (POST, POSTDIRECTLY)]
)
def test_sparqlwrapper_selects_in_json_and_xml(served: Server, method: str, request_method: str) -> None:
    client = _wrapper(served, method, request_method)
    client.setQuery(NAMES)
    client.setReturnFormat(JSON)
    names = [b["name"]["value"] for b in client.queryAndConvert()["results"]["bindings"]]
    assert len(names) == 9 and names == sorted(names)
    client.setReturnFormat(XML)
    document = client.queryAndConvert()
    assert [n.firstChild.data for n in document.getElementsByTagName("literal")] == names


@pytest.mark.parametrize("format", [TURTLE, RDFXML, N3])
def test_sparqlwrapper_constructs_a_graph(served: Server, format: str) -> None:
    client = _wrapper(served, GET)
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(format)
    result = client.queryAndConvert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result, format="turtle")
    assert len(graph) == 9


def test_sparqlwrapper_ask(served: Server) -> None:
    client = _wrapper(served, GET)
    client.setQuery("ASK { ?s a <http://odahub.io/ontology#Workflow> }")
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True


def test_sparqlwrapper_update_needs_the_token(served: Server) -> None:
    graph = f"http://example.org/{uuid.uuid4().hex}"
    client = _wrapper(served, POST)
    client.endpoint = f"{served.url}/update"
    client.setQuery(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:p> 1 }} }}")
    with pytest.raises(Unauthorized):
        client.query()
    client.addCustomHttpHeader("Authorization", f"Bearer {served.token}")
    assert client.query().response.status == 204
    client.setQuery(f"DROP GRAPH <{graph}>")
    client.query()


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
def test_rdflib_sparqlstore_queries(served: Server, method: str) -> None:
    store = SPARQLStore(f"{served.url}/sparql", method=method)  # prepends its ~29 PREFIX lines
    graph = Graph(store=store)
    names = [str(row.name) for row in graph.query(NAMES)]
    assert len(names) == 9
    triples = graph.query(CONSTRUCT).graph
    assert len(triples) == 9


def test_rdflib_sparqlupdatestore_writes_with_a_bearer_header(served: Server) -> None:
    graph_iri = URIRef(f"http://example.org/{uuid.uuid4().hex}")
    store = SPARQLUpdateStore(
        f"{served.url}/sparql",
        f"{served.url}/update",
        headers={"Authorization": f"Bearer {served.token}"},
        autocommit=True,
    )
    graph = Graph(store=store, identifier=graph_iri)
    graph.add((URIRef("urn:a"), URIRef("urn:p"), Literal("from rdflib")))
    assert [str(o) for o in graph.objects(URIRef("urn:a"), URIRef("urn:p"))] == ["from rdflib"]
    # Not graph.remove(): rdflib writes `WITH <g> DELETE ...`, which `oxigraph serve
    # --union-default-graph` (the remote store here) refuses; the embedded store takes it.
    store.update(f"DROP GRAPH <{graph_iri}>")
    assert len(graph) == 0
    anonymous = Graph(
        store=SPARQLUpdateStore(f"{served.url}/sparql", f"{served.url}/update"), identifier=graph_iri
    )
    with pytest.raises(HTTPError) as refused:
        anonymous.add((URIRef("urn:a"), URIRef("urn:p"), Literal("refused")))
    assert refused.value.code == 401
