"""The ODA ontology as an in-memory index, for the harvester's per-annotation questions.

The harvester asks, for every annotated variable, whether a term exists, what it inherits
(value datatype, unit, time format, limits, allowed values) and what a misspelt term was
meant to be. Those answers are worked out once per process from `oda.ttl` and `kg.ttl`,
so each question is a dictionary lookup.

Inherited facts are resolved the way an annotator means them: the nearest class that states
a fact wins (a subclass refines its parents); limits, being ranges, intersect over all
ancestors as OWL says they do.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, QuerySolutions, RdfFormat, Store, Triple, parse

from kg.iris import ONTOLOGY_GRAPH
from kg.namespaces import KG, OWL, RDF, RDFS, SPARQL_PROLOGUE, XSD
from kg.paths import ontology_dir
from kg.store.base import Store as KgStore
from kg.store.base import in_graph

#: Files the index is built from.
INDEX_FILES = ("oda.ttl", "kg.ttl")
#: Files loaded into the store's ontology graph, and covered by `Ontology.content_hash`.
STORE_FILES = (*INDEX_FILES, "shapes.ttl")

_PROPERTY_KINDS = ("ObjectProperty", "DatatypeProperty", "AnnotationProperty", "FunctionalProperty")
_PROPERTY_TYPES = frozenset(OWL[kind].value for kind in _PROPERTY_KINDS) | {RDF.Property.value}
_CLASS_TYPES = frozenset({OWL.Class.value, RDFS.Class.value})
_SUGGEST_CUTOFF = 0.75

Levels = tuple[frozenset[str], ...]
T = TypeVar("T")


class Ontology:
    """Answers about ODA and oda-kg terms; IRIs in and out are plain strings."""

    def __init__(self, sources: Mapping[str, bytes]) -> None:
        self._sources = dict(sources)
        store = Store()
        for name in INDEX_FILES:
            store.load(sources[name], format=RdfFormat.TURTLE)
        types = _types(store)
        parents = _parents(store)
        declared_classes = {s for s, ts in types.items() if ts & _CLASS_TYPES}
        self._classes = frozenset(declared_classes.union(parents, *parents.values()))
        self._properties = frozenset(s for s, ts in types.items() if ts & _PROPERTY_TYPES)
        self._individuals = frozenset(
            s for s, ts in types.items() if OWL.NamedIndividual.value in ts or ts & self._classes
        )
        self._labels = _labels(store)
        self._levels = _superclass_levels(parents, self._classes)
        self._ancestors = {c: frozenset().union(*levels) for c, levels in self._levels.items()}
        self._datatypes = self._nearest(_value_datatypes(store))
        self._units = self._nearest(_has_value(store, "has_unit"))
        self._formats = self._nearest(_has_value(store, "has_format"))
        self._allowed = self._nearest(_enumerations(store))
        self._limits = self._intersect_limits(_facets(store))
        self._by_namespace = _index_local_names(self._classes | self._properties | self._individuals)

    @classmethod
    def load(cls, directory: Path | None = None) -> Ontology:
        directory = directory or ontology_dir()
        return cls({name: (directory / name).read_bytes() for name in STORE_FILES})

    # -- terms ---------------------------------------------------------------------------

    def is_class(self, iri: str) -> bool:
        return iri in self._classes

    def is_property(self, iri: str) -> bool:
        return iri in self._properties

    def is_individual(self, iri: str) -> bool:
        return iri in self._individuals

    def is_known(self, iri: str) -> bool:
        return iri in self._classes or iri in self._properties or iri in self._individuals

    def label(self, iri: str) -> str | None:
        return self._labels.get(iri)

    def suggest(self, iri: str) -> str | None:
        """The known term closest to a misspelt one, in the same namespace ("did you mean").

        None for a known term (nothing to correct) and when nothing is close enough.
        """
        if self.is_known(iri):
            return None
        namespace, local = _split(iri)
        candidates = self._by_namespace.get(namespace, {})
        match = difflib.get_close_matches(local.lower(), candidates, n=1, cutoff=_SUGGEST_CUTOFF)
        return candidates[match[0]] if match else None

    # -- hierarchy -----------------------------------------------------------------------

    def superclasses(self, iri: str) -> frozenset[str]:
        """`iri` and every class it is a subclass of, directly or not."""
        return self._ancestors.get(iri, frozenset({iri}))

    def is_subclass(self, iri: str, ancestor: str) -> bool:
        return ancestor in self.superclasses(iri)

    # -- inherited restrictions ----------------------------------------------------------

    def value_datatype(self, iri: str) -> str | None:
        """The xsd datatype of the class's oda:value; None when unknown or ambiguous."""
        return _single(self._datatypes.get(iri))

    def value_datatypes(self, classes: Iterable[str]) -> set[str]:
        """The datatypes the most specific of `classes` inherit; more than one means ambiguous."""
        classes = set(classes)
        specific = {c for c in classes if not any(c != o and c in self.superclasses(o) for o in classes)}
        return {dt for c in specific for dt in self._datatypes.get(c, ())}

    def unit(self, iri: str) -> str | None:
        """The unit individual the class fixes through oda:has_unit (oda:GeV -> unit:GeV)."""
        return _single(self._units.get(iri))

    def format(self, iri: str) -> str | None:
        """The format individual the class fixes through oda:has_format (oda:MJD, oda:ISOT)."""
        return _single(self._formats.get(iri))

    def limits(self, iri: str) -> tuple[float | None, float | None]:
        """The inclusive (lower, upper) bounds on the class's oda:value."""
        return self._limits.get(iri, (None, None))

    def allowed_values(self, iri: str) -> tuple[str, ...] | None:
        """The values the class's oda:value is restricted to, in their declared order."""
        options = self._allowed.get(iri)
        if not options:
            return None
        first, *others = sorted(options)
        return tuple(v for v in first if all(v in other for other in others))

    # -- the files -----------------------------------------------------------------------

    @functools.cached_property
    def content_hash(self) -> str:
        """`sha256:<hex>` of the ontology files, to tell whether a store holds this version."""
        digest = hashlib.sha256()
        for name in STORE_FILES:
            digest.update(f"{name}\0{len(self._sources[name])}\0".encode())
            digest.update(self._sources[name])
        return f"sha256:{digest.hexdigest()}"

    def triples(self) -> list[Triple]:
        """Every triple of the ontology files (index files and shapes), as loaded into a store."""
        return [
            quad.triple
            for name in STORE_FILES
            for quad in parse(self._sources[name], format=RdfFormat.TURTLE)
            if isinstance(quad, Quad)
        ]

    # -- resolution of inherited facts ---------------------------------------------------

    def _nearest(self, declared: Mapping[str, set[T]]) -> dict[str, frozenset[T]]:
        """For each class, the values stated by its nearest ancestors that state any."""
        resolved: dict[str, frozenset[T]] = {}
        for cls, levels in self._levels.items():
            for level in levels:
                found = frozenset(v for c in level for v in declared.get(c, ()))
                if found:
                    resolved[cls] = found
                    break
        return resolved

    def _intersect_limits(
        self, facets: Mapping[str, dict[str, float]]
    ) -> dict[str, tuple[float | None, float | None]]:
        limits = {}
        for cls, ancestors in self._ancestors.items():
            lows = [facets[a]["minInclusive"] for a in ancestors if "minInclusive" in facets.get(a, {})]
            highs = [facets[a]["maxInclusive"] for a in ancestors if "maxInclusive" in facets.get(a, {})]
            if lows or highs:
                limits[cls] = (max(lows, default=None), min(highs, default=None))
        return limits


@functools.cache
def default_ontology() -> Ontology:
    """The shipped ontology, built once per process."""
    return Ontology.load()


def ensure_loaded(store: KgStore, ontology: Ontology | None = None) -> bool:
    """Put the ontology files into the ontology graph unless it already holds this version.

    The version is recorded as `<graph> kg:contentHash "sha256:..."` inside the graph, so
    checking costs one ASK. Returns True when the graph was (re)written.
    """
    ontology = ontology or default_ontology()
    stamp = Literal(ontology.content_hash)
    query = SPARQL_PROLOGUE + "ASK { GRAPH ?graph { ?graph kg:contentHash ?hash } }"
    if store.ask(query, {"graph": ONTOLOGY_GRAPH, "hash": stamp}):
        return False
    triples = [*ontology.triples(), Triple(ONTOLOGY_GRAPH, KG.contentHash, stamp)]
    store.replace_graphs({ONTOLOGY_GRAPH: in_graph(ONTOLOGY_GRAPH, triples)})
    return True


# -- reading the parsed files ------------------------------------------------------------


def _select(store: Store, query: str) -> QuerySolutions:
    result = store.query(SPARQL_PROLOGUE + query)
    assert isinstance(result, QuerySolutions)
    return result


def _types(store: Store) -> dict[str, set[str]]:
    types: dict[str, set[str]] = {}
    for row in _select(store, "SELECT ?s ?t WHERE { ?s a ?t FILTER(isIRI(?s)) }"):
        types.setdefault(row["s"].value, set()).add(row["t"].value)
    return types


def _parents(store: Store) -> dict[str, set[str]]:
    """Class -> its named direct superclasses (restrictions left out)."""
    parents: dict[str, set[str]] = {}
    rows = _select(store, "SELECT ?c ?s WHERE { ?c rdfs:subClassOf ?s FILTER(isIRI(?c) && isIRI(?s)) }")
    for row in rows:
        parents.setdefault(row["c"].value, set()).add(row["s"].value)
    return parents


def _labels(store: Store) -> dict[str, str]:
    rows = _select(store, "SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(isIRI(?s)) } ORDER BY ?s ?l")
    labels: dict[str, str] = {}
    for row in rows:
        labels.setdefault(row["s"].value, row["l"].value)
    return labels


def _superclass_levels(parents: Mapping[str, set[str]], classes: Iterable[str]) -> dict[str, Levels]:
    """For each class, its ancestors grouped by distance: ({cls}, {parents}, {grandparents}, ...)."""
    levels = {}
    for cls in classes:
        seen, frontier, layers = {cls}, {cls}, []
        while frontier:
            layers.append(frozenset(frontier))
            frontier = {p for c in frontier for p in parents.get(c, ()) if p not in seen}
            seen |= frontier
        levels[cls] = tuple(layers)
    return levels


def _value_datatypes(store: Store) -> dict[str, set[str]]:
    """Class -> xsd datatypes its oda:value is restricted to (a restricted datatype counts as its base)."""
    rows = _select(
        store,
        """SELECT ?c ?range ?base WHERE {
             ?c rdfs:subClassOf [ owl:onProperty oda:value ; owl:allValuesFrom ?range ] .
             OPTIONAL { ?range owl:onDatatype ?base }
           }""",
    )
    declared: dict[str, set[str]] = {}
    for row in rows:
        datatype = row["base"] or row["range"]
        if isinstance(datatype, NamedNode) and XSD.contains(datatype.value):
            declared.setdefault(row["c"].value, set()).add(datatype.value)
    return declared


def _has_value(store: Store, prop: str) -> dict[str, set[str]]:
    """Class -> individuals it fixes as the value of oda:`prop`."""
    rows = _select(
        store,
        f"SELECT ?c ?v WHERE {{ ?c rdfs:subClassOf [ owl:onProperty oda:{prop} ; owl:hasValue ?v ] }}",
    )
    declared: dict[str, set[str]] = {}
    for row in rows:
        declared.setdefault(row["c"].value, set()).add(row["v"].value)
    return declared


def _enumerations(store: Store) -> dict[str, set[tuple[str, ...]]]:
    """Class -> the owl:oneOf lists its oda:value is restricted to."""
    rows = _select(
        store,
        """SELECT ?c ?list WHERE {
             ?c rdfs:subClassOf [ owl:onProperty oda:value ; owl:allValuesFrom [ owl:oneOf ?list ] ]
           }""",
    )
    declared: dict[str, set[tuple[str, ...]]] = {}
    for row in rows:
        values = tuple(term.value for term in _rdf_list(store, row["list"]))
        declared.setdefault(row["c"].value, set()).add(values)
    return declared


def _facets(store: Store) -> dict[str, dict[str, float]]:
    """Class -> {"minInclusive": x, "maxInclusive": y} stated on its oda:value datatype."""
    rows = _select(
        store,
        """SELECT ?c ?facet ?bound WHERE {
             ?c rdfs:subClassOf [ owl:onProperty oda:value ; owl:allValuesFrom ?range ] .
             ?range owl:withRestrictions/rdf:rest*/rdf:first [ ?facet ?bound ]
             FILTER(?facet IN (xsd:minInclusive, xsd:maxInclusive))
           }""",
    )
    declared: dict[str, dict[str, float]] = {}
    for row in rows:
        facet = row["facet"].value.removeprefix(XSD.iri)
        declared.setdefault(row["c"].value, {})[facet] = float(row["bound"].value)
    return declared


def _rdf_list(store: Store, head: NamedNode | BlankNode) -> list[NamedNode | BlankNode | Literal]:
    """The members of an RDF collection, in order."""
    items = []
    while head != RDF.nil:
        items.append(next(store.quads_for_pattern(head, RDF.first, None)).object)
        head = next(store.quads_for_pattern(head, RDF.rest, None)).object
    return items


# -- small helpers -----------------------------------------------------------------------


def _single(values: frozenset[str] | None) -> str | None:
    return next(iter(values)) if values and len(values) == 1 else None


def _split(iri: str) -> tuple[str, str]:
    """(namespace, local name) at the last '#' or '/'."""
    cut = max(iri.rfind("#"), iri.rfind("/")) + 1
    return iri[:cut], iri[cut:]


def _index_local_names(terms: Iterable[str]) -> dict[str, dict[str, str]]:
    """namespace -> lower-cased local name -> term, for case-insensitive suggestions."""
    index: dict[str, dict[str, str]] = {}
    for term in sorted(terms):
        namespace, local = _split(term)
        index.setdefault(namespace, {}).setdefault(local.lower(), term)
    return index
