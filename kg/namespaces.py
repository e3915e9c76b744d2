"""RDF namespaces of the data-model contract, as pyoxigraph terms.

Every module builds IRIs through these objects so that a typo in a term name is a
single, greppable place rather than a string scattered through the code.
"""

from __future__ import annotations

from pyoxigraph import NamedNode


class Namespace:
    """An IRI prefix; attribute or item access yields a `NamedNode` in it.

    Not a `str` subclass on purpose: `ODA.format` must be the term, not `str.format`.
    """

    def __init__(self, iri: str) -> None:
        self.iri = iri

    def __getattr__(self, local: str) -> NamedNode:
        """Called only the first time a term is asked for: it is then kept as an attribute, so
        harvesting, which asks for the same few terms millions of times, pays a dict lookup."""
        if local.startswith("__"):
            raise AttributeError(local)
        term = NamedNode(self.iri + local)
        setattr(self, local, term)
        return term

    def __getitem__(self, local: str) -> NamedNode:
        return getattr(self, local) if local.isidentifier() else NamedNode(self.iri + local)

    def __str__(self) -> str:
        return self.iri

    def __repr__(self) -> str:
        return f"Namespace({self.iri!r})"

    def contains(self, iri: str) -> bool:
        return iri.startswith(self.iri)


ODA = Namespace("http://odahub.io/ontology#")
UNIT = Namespace("http://odahub.io/ontology/unit#")
KG = Namespace("https://w3id.org/oda-kg#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("http://schema.org/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SH = Namespace("http://www.w3.org/ns/shacl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")

#: Prefix name -> namespace, for SPARQL prologues, Turtle output and CURIE expansion.
PREFIXES: dict[str, str] = {
    name: ns.iri
    for name, ns in (
        ("oda", ODA),
        ("unit", UNIT),
        ("kg", KG),
        ("prov", PROV),
        ("schema", SCHEMA),
        ("dcterms", DCTERMS),
        ("sh", SH),
        ("xsd", XSD),
        ("rdf", RDF),
        ("rdfs", RDFS),
        ("owl", OWL),
    )
}

#: The same prefixes as SPARQL `PREFIX` lines, for queries written in code.
SPARQL_PROLOGUE = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
