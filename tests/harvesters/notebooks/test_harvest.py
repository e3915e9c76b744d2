"""Harvesting into a store (embedded and remote): the contract's triples, idempotence,
deletion, and bad notebooks that lose nothing."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from pyoxigraph import Literal

from harvesters.notebooks import harvest
from kg.iris import ONTOLOGY_GRAPH
from kg.namespaces import SPARQL_PROLOGUE
from kg.terms import curie, to_python

from .conftest import init_repo

PARAMETERS = """\
# oda:version "v0.1.1"
# oda:reference "https://doi.org/10.1051/0004-6361/202039469"
# oda:usesRequiredResource oda:MyS3 .
# oda:MyS3 a oda:S3 .
# oda:MyS3 oda:resourceBindingEnvVarName "MY_S3_CREDENTIALS" .
src_name = "Mrk 421"  # http://odahub.io/ontology#AstrophysicalObject
RA = 166.113808  # oda:PointOfInterestRA
DEC = 38.208833  # oda:PointOfInterestDEC
T1 = 59000.0  # oda:StartTime ; oda:format oda:MJD
T2 = "2022-01-31T00:00:00"  # oda:EndTimeISOT
radius = 3.0  # oda:AngleDegrees; oda:upper_limit 10
band = "g"  # oda:String; oda:allowed_value 'b','g','r'
e_min = 1.0  # oda:Float; oda:GeV
e_max = 100.0  # oda:Float; oda:unit unit:GeV
nbins: int = 20  # oda:Integer; oda:limits 1, 100; oda:label 'Time bin'; oda:group "Binning"
threshold: float | None = None  # oda:Float, oda:optional
use_cache = True
n_sim = 100  # number of simulations
events = "data/events.fits"  # oda:POSIXPath
"""
OUTPUTS = """\
lc = table  # oda:LightCurve
comment = text  # oda:WorkflowResultComment
"""


def parameter_properties(store, name: str) -> dict[str, set]:
    rows = store.select(
        SPARQL_PROLOGUE
        + "SELECT ?prop ?value WHERE { ?wf kg:hasParameter ?p . ?p schema:name ?name ; ?prop ?value }",
        {"name": Literal(name)},
    )
    found = defaultdict(set)
    for row in rows:
        value = to_python(row["value"])
        found[curie(row["prop"].value)].add(json.dumps(value) if isinstance(value, dict | list) else value)
    return found


def workflow_count(store) -> int:
    return len(store.select(SPARQL_PROLOGUE + "SELECT ?wf WHERE { ?wf a oda:Workflow }"))


@pytest.fixture
def harvested(store, write_notebook):
    path = write_notebook("analysis.ipynb", parameters=PARAMETERS, outputs=OUTPUTS)
    report = harvest([path], store)
    assert not report.failed, [str(d) for r in report.results for d in r.diagnostics]
    return store, path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "src_name",
            {
                "rdf:type": {"kg:Parameter", "oda:AstrophysicalObject"},
                "kg:commonParameter": {"src_name"},
                "schema:defaultValue": {"Mrk 421"},
                "kg:position": {0},
            },
        ),
        (
            "RA",
            {"kg:commonParameter": {"RA"}, "oda:unit": {"unit:Degree"}, "schema:defaultValue": {166.113808}},
        ),
        ("DEC", {"kg:commonParameter": {"DEC"}}),
        ("T1", {"kg:commonParameter": {"T1"}, "oda:format": {"oda:MJD"}}),
        ("T2", {"kg:commonParameter": {"T2"}, "rdf:type": {"kg:Parameter", "oda:EndTimeISOT"}}),
        ("radius", {"oda:upper_limit": {10}, "oda:unit": {"unit:Degree"}}),
        ("band", {"oda:allowed_value": {"b", "g", "r"}}),
        ("e_min", {"oda:unit": {"unit:GeV"}, "rdf:type": {"kg:Parameter", "oda:Float", "oda:GeV"}}),
        ("e_max", {"oda:unit": {"unit:GeV"}}),
        (
            "nbins",
            {
                "oda:lower_limit": {1},
                "oda:upper_limit": {100},
                "oda:label": {"Time bin"},
                "oda:group": {"Binning"},
                "schema:defaultValue": {20},
            },
        ),
        ("threshold", {"kg:optional": {True}}),
        ("use_cache", {"rdf:type": {"kg:Parameter", "oda:Boolean"}, "schema:defaultValue": {True}}),
        ("n_sim", {"kg:annotation": {"number of simulations"}, "rdf:type": {"kg:Parameter", "oda:Integer"}}),
        ("events", {"rdf:type": {"kg:Parameter", "oda:POSIXPath"}}),
    ],
)
def test_parameter_triples_follow_the_contract(harvested, name, expected):
    store, _ = harvested
    found = parameter_properties(store, name)
    for prop, values in expected.items():
        assert found[prop] == values, prop


def test_optional_parameter_has_no_default_triple(harvested):
    store, _ = harvested
    assert "schema:defaultValue" not in parameter_properties(store, "threshold")


def test_default_literals_are_typed(harvested):
    store, _ = harvested
    rows = store.select(
        SPARQL_PROLOGUE
        + "SELECT ?name (DATATYPE(?d) AS ?t) "
        + "WHERE { ?p a kg:Parameter ; schema:name ?name ; schema:defaultValue ?d }"
    )
    types = {r["name"].value: curie(r["t"].value) for r in rows}
    assert types["nbins"] == "xsd:integer" and types["RA"] == "xsd:double"
    assert types["src_name"] == "xsd:string" and types["use_cache"] == "xsd:boolean"


def test_workflow_and_notebook_level_triples(harvested):
    store, _ = harvested
    assert store.ask(
        SPARQL_PROLOGUE
        + """ASK {
          ?wf a oda:Workflow, prov:Plan, schema:SoftwareSourceCode ;
              schema:name "analysis" ; kg:notebookPath "analysis.ipynb" ;
              schema:codeRepository ?repo ; kg:contentHash ?hash ; kg:isTest false ;
              oda:version "v0.1.1" ; oda:reference "https://doi.org/10.1051/0004-6361/202039469" ;
              oda:usesRequiredResource ?r .
          ?r a oda:S3 ; oda:resourceBindingEnvVarName "MY_S3_CREDENTIALS" .
          ?wf kg:hasOutput ?lc, ?comment .
          ?lc a kg:Output, oda:LightCurve ; schema:name "lc" .
          ?comment a kg:Output, oda:WorkflowResultComment ; kg:isComment true .
          FILTER(STRSTARTS(?hash, "sha256:"))
        }"""
    )


def test_subclass_queries_work_through_the_loaded_ontology(harvested):
    store, _ = harvested
    assert ONTOLOGY_GRAPH in store.named_graphs()
    rows = store.select(
        SPARQL_PROLOGUE
        + "SELECT DISTINCT ?name WHERE { ?p a ?c ; schema:name ?name . ?c rdfs:subClassOf* oda:TimeInstant }"
    )
    assert {r["name"].value for r in rows} == {"T1", "T2"}


ALL_QUADS = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_reharvest_of_an_unchanged_notebook_leaves_its_graph_as_it_was(harvested):
    store, path = harvested
    before = sorted(str(q) for q in store.select(ALL_QUADS))
    report = harvest([path], store)
    assert report.unchanged == [report.results[0].file] and report.written == []
    assert sorted(str(q) for q in store.select(ALL_QUADS)) == before
    assert workflow_count(store) == 1


def test_a_new_commit_rewrites_an_unchanged_notebook(store, write_notebook, tmp_path):
    write_notebook("repo/a.ipynb", parameters="x = 1\n")
    first = init_repo(tmp_path / "repo")
    harvest([tmp_path / "repo"], store)
    (tmp_path / "repo" / "README.md").write_text("more")
    second = init_repo(tmp_path / "repo")
    report = harvest([tmp_path / "repo"], store)
    assert first != second and len(report.written) == 1 and report.unchanged == []
    rows = store.select(SPARQL_PROLOGUE + "SELECT ?c WHERE { ?wf a oda:Workflow ; kg:commit ?c }")
    assert [r["c"].value for r in rows] == [second]


def test_changed_notebook_replaces_its_graph_with_a_new_hash(harvested, write_notebook):
    store, path = harvested
    query = SPARQL_PROLOGUE + "SELECT ?h WHERE { ?wf a oda:Workflow ; kg:contentHash ?h }"
    (old,) = store.select(query)
    write_notebook("analysis.ipynb", parameters="only = 1  # oda:Integer\n")
    harvest([path], store)
    (new,) = store.select(query)
    assert new["h"] != old["h"]
    names = {
        r["n"].value
        for r in store.select(SPARQL_PROLOGUE + "SELECT ?n WHERE { ?p a kg:Parameter ; schema:name ?n }")
    }
    assert names == {"only"}


def test_deleted_notebook_loses_its_graph(store, write_notebook, tmp_path):
    write_notebook("repo/a.ipynb", parameters="x = 1\n")
    gone = write_notebook("repo/b.ipynb", parameters="x = 1\n")
    harvest([tmp_path / "repo"], store)
    assert workflow_count(store) == 2
    gone.unlink()
    report = harvest([tmp_path / "repo"], store)
    assert report.removed == ["b.ipynb"]
    assert workflow_count(store) == 1


def test_harvesting_a_subdirectory_does_not_drop_the_rest_of_the_repository(store, write_notebook, tmp_path):
    write_notebook("repo/one/a.ipynb", parameters="x = 1\n")
    write_notebook("repo/two/b.ipynb", parameters="x = 1\n")
    init_repo(tmp_path / "repo")
    harvest([tmp_path / "repo"], store)
    harvest([tmp_path / "repo" / "one"], store)
    assert workflow_count(store) == 2


def test_notebook_with_errors_is_not_written_and_others_are(store, write_notebook, tmp_path):
    write_notebook("repo/good.ipynb", parameters="x = 1.0  # oda:Float\n")
    write_notebook("repo/bad.ipynb", parameters="n = 1.5  # oda:Integer\n")
    (tmp_path / "repo" / "broken.ipynb").write_text("{not json")
    report = harvest([tmp_path / "repo"], store)
    assert report.failed
    assert {r.file.rsplit("/", 1)[-1]: r.ok for r in report.results} == {
        "bad.ipynb": False,
        "broken.ipynb": False,
        "good.ipynb": True,
    }
    names = {
        r["n"].value
        for r in store.select(SPARQL_PROLOGUE + "SELECT ?n WHERE { ?wf a oda:Workflow ; schema:name ?n }")
    }
    assert names == {"good"}


def test_a_notebook_broken_later_keeps_its_previous_graph(store, write_notebook, tmp_path):
    path = write_notebook("repo/a.ipynb", parameters="x = 1.0  # oda:Float\n")
    harvest([tmp_path / "repo"], store)
    path.write_text("{ broken")
    report = harvest([tmp_path / "repo"], store)
    assert report.failed and report.removed == []
    assert workflow_count(store) == 1


def test_papermill_outputs_are_skipped_in_directories_but_read_when_named(store, write_notebook, tmp_path):
    write_notebook("repo/a.ipynb", parameters="x = 1\n")
    out = write_notebook(
        "repo/run.ipynb",
        parameters="x = 1\n",
        injected="x = 5\n",
        metadata={"papermill": {"input_path": "a.ipynb", "output_path": "run.ipynb"}},
    )
    harvest([tmp_path / "repo"], store)
    assert workflow_count(store) == 1
    harvest([out], store)
    assert parameter_properties(store, "x")["schema:defaultValue"] == {1, 5}
