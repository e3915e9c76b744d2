"""The shipped ontology files and the index the harvester consults (kg.ontology)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, Store

from kg.iris import ONTOLOGY_GRAPH
from kg.namespaces import KG, ODA, OWL, PREFIXES, RDF, RDFS, UNIT, XSD
from kg.ontology import Ontology, default_ontology, ensure_loaded
from kg.paths import ontology_dir
from kg.store import open_store

PUBLISHED = Path(__file__).parent / "data" / "ontology" / "published-terms.tsv"
CURIES = {**PREFIXES, "ivoa": "http://www.ivoa.net/rdf/product-type#"}

OWL_KIND = {
    "object-property": OWL.ObjectProperty,
    "datatype-property": OWL.DatatypeProperty,
    "annotation-property": OWL.AnnotationProperty,
    "individual": OWL.NamedIndividual,
    "class": OWL.Class,
}


def iri(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return CURIES[prefix] + local


def oda(local: str) -> str:
    return ODA[local].value


def unit(local: str) -> str:
    return UNIT[local].value


def kg(local: str) -> str:
    return KG[local].value


XSD_FLOAT, XSD_STRING, XSD_INTEGER = XSD.float.value, XSD.string.value, XSD.integer.value


@pytest.fixture(scope="module")
def onto() -> Ontology:
    return default_ontology()


@pytest.fixture(scope="module")
def oda_file() -> Store:
    store = Store()
    store.load(path=ontology_dir() / "oda.ttl", format=RdfFormat.TURTLE)
    return store


def objects(store: Store, subject: str, predicate: NamedNode) -> set[str]:
    """IRIs and literal values (blank nodes, i.e. OWL restrictions, left out)."""
    quads = store.quads_for_pattern(NamedNode(subject), predicate, None)
    return {q.object.value for q in quads if isinstance(q.object, NamedNode | Literal)}


# -- the files ---------------------------------------------------------------------------


def published_terms() -> list[tuple[str, str, set[str]]]:
    rows = []
    for line in PUBLISHED.read_text().splitlines():
        if line and not line.startswith("#"):
            kind, term, related = line.split("\t")
            rows.append((kind, iri(term), {iri(c) for c in related.split()}))
    return rows


def test_every_published_term_is_declared_with_its_kind(oda_file):
    missing = [
        term
        for kind, term, _ in published_terms()
        if OWL_KIND[kind].value not in objects(oda_file, term, RDF.type)
    ]
    assert missing == []
    assert len(published_terms()) == 186


def test_published_class_hierarchy_is_kept_exactly(oda_file):
    differences = {}
    for kind, term, expected in published_terms():
        if kind == "class":
            named = objects(oda_file, term, RDFS.subClassOf)
            if named != expected:
                differences[term] = (named, expected)
    assert differences == {}


def test_published_individuals_keep_their_types(oda_file):
    for kind, term, types in published_terms():
        if kind == "individual":
            assert types <= objects(oda_file, term, RDF.type), term


@pytest.mark.parametrize(
    ("curie", "kind"),
    [
        ("oda:WorkflowResultComment", "class"),
        ("oda:Run", "class"),
        ("oda:AstrophysicalImage", "class"),
        ("oda:AstrophysicalRegion", "class"),
        ("oda:label", "annotation-property"),
        ("oda:description", "annotation-property"),
        ("oda:group", "annotation-property"),
        ("oda:version", "annotation-property"),
        ("oda:reference", "annotation-property"),
        ("oda:oda_token_access", "annotation-property"),
        ("oda:limits", "annotation-property"),
        ("oda:isRequestingAstroImage", "object-property"),
        ("oda:isRequestingAstroRegion", "object-property"),
        ("oda:isUsingSkyCoordinates", "object-property"),
        ("oda:isUsingRadius", "object-property"),
        ("oda:InOdaContext", "individual"),
    ],
)
def test_terms_mmoda_uses_without_declaring_are_declared_and_explained(oda_file, curie, kind):
    term = iri(curie)
    assert OWL_KIND[kind].value in objects(oda_file, term, RDF.type)
    (comment,) = objects(oda_file, term, RDFS.comment)
    assert comment.startswith("Used by MMODA")


@pytest.mark.parametrize("name", ["oda.ttl", "kg.ttl"])
def test_every_class_has_a_label(onto, name):
    store = Store()
    store.load(path=ontology_dir() / name, format=RdfFormat.TURTLE)
    declared = store.quads_for_pattern(None, RDF.type, OWL.Class)
    classes = {q.subject.value for q in declared if isinstance(q.subject, NamedNode)}
    assert len(classes) > 10
    assert [c for c in classes if not onto.label(c)] == []


KG_TERMS = {
    "classes": "Parameter Output Run OutputValue AstroqueryCall Event NewPaper NewObservation "
    "NewSoftwareRelease NewWorkflowVersion ScheduledTick Verdict",
    "properties": "notebookPath commit contentHash hasParameter hasOutput isTest position optional "
    "commonParameter annotation isComment parameterValue valueHash environment madeCall method arguments "
    "outcome triggeredBy repeats verdict package helpText acknowledgements harvestedAt harvester",
}


@pytest.mark.parametrize("local", KG_TERMS["properties"].split())
def test_platform_properties_are_documented(local):
    store = Store()
    store.load(path=ontology_dir() / "kg.ttl", format=RdfFormat.TURTLE)
    term = NamedNode(kg(local))
    for predicate in (RDFS.label, RDFS.comment, RDFS.domain, RDFS.range):
        assert list(store.quads_for_pattern(term, predicate, None)), f"kg:{local} lacks {predicate}"


def test_platform_classes_and_verdicts_are_known(onto):
    assert all(onto.is_class(kg(c)) and onto.label(kg(c)) for c in KG_TERMS["classes"].split())
    assert onto.is_individual(kg("Identical")) and onto.is_individual(kg("Differs"))
    assert onto.is_subclass(kg("NewPaper"), kg("Event"))
    assert onto.is_subclass(kg("Run"), PREFIXES["prov"] + "Activity")


# -- the index ---------------------------------------------------------------------------


def test_kinds_of_terms(onto):
    assert onto.is_class(oda("Float")) and not onto.is_property(oda("Float"))
    assert onto.is_property(oda("label")) and onto.is_property(oda("has_unit"))
    assert onto.is_property(kg("position"))
    assert onto.is_individual(unit("GeV")) and onto.is_individual(oda("MJD"))
    assert not onto.is_class(oda("Flaot"))
    assert not onto.is_individual(oda("Float"))


def test_superclasses_are_reflexive_and_transitive(onto):
    ancestors = onto.superclasses(oda("StartTimeMJD"))
    assert {oda("StartTimeMJD"), oda("StartTime"), oda("TimeInstantMJD"), oda("TimeInstant")} <= ancestors
    assert {oda("ExpressedInMJD"), oda("WorkflowParameter"), oda("DataProduct")} <= ancestors
    assert oda("EndTime") not in ancestors
    assert onto.is_subclass(oda("PointOfInterestRA"), oda("RightAscension"))
    assert not onto.is_subclass(oda("RightAscension"), oda("PointOfInterestRA"))
    unknown = "http://example.org/Nothing"
    assert onto.superclasses(unknown) == frozenset({unknown})


@pytest.mark.parametrize(
    ("cls", "datatype"),
    [
        ("PointOfInterestRA", XSD_FLOAT),
        ("Energy_keV", XSD_FLOAT),
        ("ISGRIEnergy", XSD_FLOAT),
        ("StartTimeMJD", XSD_FLOAT),
        ("StartTimeISOT", XSD_STRING),
        ("AstrophysicalObject", XSD_STRING),
        ("Integer", XSD_INTEGER),
        ("Boolean", XSD.boolean.value),
        ("WorkflowParameter", None),
        ("StartTime", None),
        ("NoSuchClass", None),
    ],
)
def test_value_datatype(onto, cls, datatype):
    assert onto.value_datatype(oda(cls)) == datatype


def test_value_datatypes_of_several_annotations(onto):
    assert onto.value_datatypes([oda("Integer"), oda("Float")]) == {XSD_INTEGER, XSD_FLOAT}
    # A class and its own ancestor: the more specific one decides.
    assert onto.value_datatypes([oda("StartTime"), oda("StartTimeMJD")]) == {XSD_FLOAT}
    assert onto.value_datatypes([oda("Energy_GeV"), oda("GeV")]) == {XSD_FLOAT}
    assert onto.value_datatypes([]) == set()


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("Energy_GeV", unit("GeV")),
        ("GeV", unit("GeV")),
        ("AngleDegrees", unit("Degree")),
        ("PointOfInterestDEC", unit("Degree")),
        ("ISGRIEnergy", unit("keV")),
        ("Wavelength_A", unit("Angstrom")),
        ("TimeIntervalDays", unit("Day")),
        ("Energy", None),  # only "some energy unit"
        ("Float", None),
    ],
)
def test_unit(onto, cls, expected):
    assert onto.unit(oda(cls)) == expected


def test_format(onto):
    assert onto.format(oda("StartTimeMJD")) == oda("MJD")
    assert onto.format(oda("EndTimeISOT")) == oda("ISOT")
    assert onto.format(oda("StartTime")) is None


def test_limits(onto):
    assert onto.limits(oda("ISGRIEnergy")) == (15.0, 800.0)
    assert onto.limits(oda("JEMXEnergy")) == (3.0, 35.0)
    assert onto.limits(oda("Percentage")) == (0.0, 100.0)
    assert onto.limits(oda("Energy_keV")) == (None, None)


def test_allowed_values(onto):
    assert onto.allowed_values(oda("VisibleBand")) == ("b", "g", "r", "v")
    assert onto.allowed_values(oda("PhotometricBand")) == tuple("HJKLMNQbgiruvyz")
    assert onto.allowed_values(oda("String")) is None


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        (oda("allowed_values"), oda("allowed_value")),
        (oda("Flaot"), oda("Float")),
        (oda("float"), oda("Float")),
        (oda("PointOfInterestRa"), oda("PointOfInterestRA")),
        (oda("Energy_Gev"), oda("Energy_GeV")),
        (unit("Gev"), unit("GeV")),
        (kg("notebookpath"), kg("notebookPath")),
        (oda("CompletelyDifferent"), None),
        (oda("Float"), None),  # known: nothing to correct
        ("http://example.org/ontology#Flaot", None),  # no terms in that namespace
    ],
)
def test_suggest(onto, typo, meant):
    assert onto.suggest(typo) == meant


def test_labels(onto):
    assert onto.label(oda("ISGRIEnergy")) == "ISGRI energy"
    assert onto.label(kg("hasParameter")) == "has parameter"
    assert onto.label("http://example.org/unknown") is None


def test_load_is_fast_and_cached():
    started = time.perf_counter()
    Ontology.load()
    assert time.perf_counter() - started < 0.5  # once per CLI invocation; ~15 ms measured
    assert default_ontology() is default_ontology()


# -- resolution rules, on an extended copy of the ontology --------------------------------

EXTENSION = """
@prefix ex: <http://example.org/ext#> .
ex:Count a owl:Class ; rdfs:subClassOf oda:Float ,
    [ a owl:Restriction ; owl:onProperty oda:value ; owl:allValuesFrom xsd:integer ] .
ex:IntegerOrFloat a owl:Class ; rdfs:subClassOf oda:Integer, oda:Float .
ex:HardXrayEnergy a owl:Class ; rdfs:subClassOf oda:ISGRIEnergy ,
    [ a owl:Restriction ; owl:onProperty oda:value ; owl:allValuesFrom [ a rdfs:Datatype ;
      owl:onDatatype xsd:float ;
      owl:withRestrictions ( [ xsd:minInclusive "20.0"^^xsd:float ]
                             [ xsd:maxInclusive "1000.0"^^xsd:float ] ) ] ] .
ex:RedBand a owl:Class ; rdfs:subClassOf oda:VisibleBand ,
    [ a owl:Restriction ; owl:onProperty oda:value ;
      owl:allValuesFrom [ a rdfs:Datatype ; owl:oneOf ( "r" ) ] ] .
"""


@pytest.fixture
def extended_dir(tmp_path) -> Path:
    directory = tmp_path / "ontology"
    shutil.copytree(ontology_dir(), directory)
    with (directory / "oda.ttl").open("a") as f:
        f.write(EXTENSION)
    return directory


def test_nearest_statement_wins_and_ties_are_ambiguous(extended_dir):
    onto = Ontology.load(extended_dir)
    ex = "http://example.org/ext#"
    assert onto.value_datatype(ex + "Count") == XSD_INTEGER
    assert onto.value_datatype(ex + "IntegerOrFloat") is None
    assert onto.value_datatypes([ex + "IntegerOrFloat"]) == {XSD_INTEGER, XSD_FLOAT}
    assert onto.allowed_values(ex + "RedBand") == ("r",)
    # Ranges intersect: the subclass cannot widen ISGRI's 800 keV ceiling.
    assert onto.limits(ex + "HardXrayEnergy") == (20.0, 800.0)


def test_content_hash_follows_the_files(extended_dir):
    shipped = Ontology.load()
    assert shipped.content_hash.startswith("sha256:") and len(shipped.content_hash) == 71
    assert Ontology.load().content_hash == shipped.content_hash
    assert Ontology.load(extended_dir).content_hash != shipped.content_hash


# -- the store's ontology graph ----------------------------------------------------------


def ontology_graph_size(store) -> int:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ONTOLOGY_GRAPH.value}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"].value)


def test_ensure_loaded_loads_once_and_records_the_version(onto):
    store = open_store("memory:")
    assert ensure_loaded(store, onto) is True
    assert ensure_loaded(store, onto) is False
    assert store.ask(
        "ASK { GRAPH ?g { ?g ?hash ?value . ?float ?label 'Float' } }",
        {
            "g": ONTOLOGY_GRAPH,
            "hash": KG.contentHash,
            "value": Literal(onto.content_hash),
            "float": ODA.Float,
            "label": RDFS.label,
        },
    )
    # The shapes travel with the ontology, so clients can fetch them from the store.
    assert store.ask(
        "ASK { GRAPH ?g { ?shape a <http://www.w3.org/ns/shacl#NodeShape> } }", {"g": ONTOLOGY_GRAPH}
    )


def test_ensure_loaded_replaces_an_outdated_copy(onto, extended_dir):
    store = open_store("memory:")
    other = NamedNode("https://w3id.org/oda-kg/graph/other")
    store.replace_graphs({other: []})
    store.update(f"INSERT DATA {{ GRAPH <{other.value}> {{ <urn:a> <urn:b> <urn:c> }} }}")
    ensure_loaded(store, Ontology.load(extended_dir))
    extended_size = ontology_graph_size(store)

    assert ensure_loaded(store, onto) is True
    assert ontology_graph_size(store) < extended_size
    assert not store.ask("ASK { ?c ?p ?o FILTER(STRSTARTS(STR(?c), 'http://example.org/ext#')) }")
    hashes = store.select("SELECT ?stamp ?h WHERE { GRAPH ?g { ?g ?stamp ?h } }", {"stamp": KG.contentHash})
    assert [row["h"].value for row in hashes] == [onto.content_hash]
    assert store.ask("ASK { GRAPH ?g { <urn:a> <urn:b> <urn:c> } }", {"g": other})
