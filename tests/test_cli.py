"""The `kg` command line as users type it: output, formats and exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from kg.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KG = Path(sys.executable).parent / "kg"


@pytest.fixture
def kg(tmp_path, monkeypatch):
    """Run `kg` in-process against a fresh on-disk store chosen through KG_STORE."""
    monkeypatch.setenv("KG_STORE", str(tmp_path / "store"))
    runner = CliRunner()

    def run(*args: str, expect: int = 0):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result

    return run


@pytest.fixture
def harvested(kg):
    kg("harvest", str(EXAMPLES))
    return kg


def test_harvest_examples_prints_a_summary_and_exits_0(kg):
    result = kg("harvest", str(EXAMPLES))
    assert "9 workflows written" in result.output
    for name in ("lightcurve", "spectrum_fit", "image_cutout", "simbad_position", "photometry_band"):
        assert name in result.output


def test_harvest_with_an_error_exits_1_and_writes_the_rest(kg, tmp_path):
    (tmp_path / "nbs").mkdir()
    shutil.copy(EXAMPLES / "lightcurve.ipynb", tmp_path / "nbs")
    (tmp_path / "nbs" / "broken.ipynb").write_text("{")
    result = kg("harvest", str(tmp_path / "nbs"), expect=1)
    assert "invalid JSON" in result.output and "broken.ipynb" in result.output
    assert [w["name"] for w in json.loads(kg("workflows", "--json").output)] == ["lightcurve"]


def test_harvest_missing_path_is_a_usage_error(kg, tmp_path):
    result = kg("harvest", str(tmp_path / "nope"), expect=2)
    assert "no such file or directory" in result.output


def test_workflows_json(harvested):
    workflows = json.loads(harvested("workflows", "--json").output)
    by_name = {w["name"]: w for w in workflows}
    assert len(workflows) == 9
    assert by_name["lightcurve"]["parameters"] == 9 and by_name["lightcurve"]["outputs"] == 4
    assert by_name["test_lightcurve"]["is_test"] is True
    assert by_name["gaia_stars"]["notebook_path"] == "notebooks/gaia_stars.ipynb"


def test_workflow_show_json(harvested):
    wf = json.loads(harvested("workflow", "show", "photometry_band", "--json").output)
    assert wf["version"] == "v0.2.1" and wf["content_hash"].startswith("sha256:")
    params = {p["name"]: p for p in wf["parameters"]}
    assert [p["name"] for p in wf["parameters"]][:2] == ["src_name", "band"]
    assert params["band"]["allowed_values"] == ["b", "g", "r"] and params["band"]["default"] == "g"
    assert params["duration"]["lower_limit"] == 1 and params["duration"]["upper_limit"] == 365
    assert params["duration"]["unit"] == "unit:Day"
    assert params["T0"]["common_name"] == "T1" and params["T0"]["format"] == "oda:MJD"
    assert params["threshold"]["optional"] is True and params["threshold"]["default"] is None
    assert params["aperture"]["default"] == {"radius_arcsec": 3.0, "annulus_arcsec": [6.0, 10.0]}
    (resource,) = wf["resources"]
    assert resource == {
        "iri": "http://odahub.io/ontology#MyS3",
        "types": ["oda:S3"],
        "required": True,
        "env_var": "MY_S3_CREDENTIALS",
        "memory_per_process": None,
        "n_processes": None,
    }
    comment = next(o for o in wf["outputs"] if o["name"] == "comment")
    assert comment["is_comment"] is True


def test_workflow_show_table_and_unknown_name(harvested):
    table = harvested("workflow", "show", "spectrum_fit").output
    assert "e_min" in table and "MY_DASK_SCHEDULER" in table
    assert "no workflow named 'nope'" in harvested("workflow", "show", "nope", expect=2).output
    assert "no workflow named" in harvested("workflow", "show", "http://bad iri", expect=2).output


def test_repository_help_and_acknowledgements_are_attached(harvested):
    rows = harvested(
        "query",
        "PREFIX kg: <https://w3id.org/oda-kg#> "
        "SELECT ?h WHERE { ?wf kg:helpText ?h ; kg:acknowledgements ?a }",
        "--format",
        "json",
    ).output
    assert len(list(parse_query_results(rows, format=QueryResultsFormat.JSON))) == 3


def test_query_formats(harvested):
    query = (
        "PREFIX schema: <http://schema.org/> SELECT ?name "
        "WHERE { ?wf a <http://odahub.io/ontology#Workflow> ; schema:name ?name } ORDER BY ?name"
    )
    solutions = parse_query_results(
        harvested("query", query, "--format", "json").output, format=QueryResultsFormat.JSON
    )
    names = [row["name"].value for row in solutions]
    assert names[0] == "flux_ratio" and len(names) == 9
    rows = list(csv.reader(io.StringIO(harvested("query", query, "--format", "csv").output)))
    assert rows[0] == ["name"] and rows[1] == ["flux_ratio"]
    assert harvested("query", query, "--format", "tsv").output.splitlines()[1] == '"flux_ratio"'
    assert "flux_ratio" in harvested("query", query).output
    xml = harvested("query", query, "--format", "xml").output
    assert len(list(parse_query_results(xml, format=QueryResultsFormat.XML))) == 9


def test_construct_formats(harvested):
    query = (
        "CONSTRUCT { ?wf a ?t } WHERE { "
        '?wf a <http://odahub.io/ontology#Workflow>, ?t ; <http://schema.org/name> "lightcurve" }'
    )
    turtle = harvested("query", query).output
    assert len(list(parse(turtle, format=RdfFormat.TURTLE))) == 3
    nt = harvested("query", query, "--format", "ntriples").output
    assert len(nt.strip().splitlines()) == 3
    jsonld = harvested("query", query, "--format", "jsonld").output
    assert len(list(parse(jsonld, format=RdfFormat.JSON_LD))) == 3
    assert "is a graph" in harvested("query", query, "--format", "csv", expect=2).output


def test_named_queries_with_bindings(harvested):
    out = harvested(
        "query", "--name", "workflows-by-parameter-type", "--bind", "type=oda:StartTime", "--format", "json"
    ).output
    names = {row["name"].value for row in parse_query_results(out, format=QueryResultsFormat.JSON)}
    assert names == {"lightcurve", "photometry_band", "flux_ratio"}
    out = harvested(
        "query",
        "--name",
        "workflows-using-resource",
        "--bind",
        "kind=oda:StorageResource",
        "--format",
        "json",
    ).output
    rows = list(parse_query_results(out, format=QueryResultsFormat.JSON))
    assert [(r["name"].value, r["variable"].value) for r in rows] == [
        ("photometry_band", "MY_S3_CREDENTIALS")
    ]
    out = harvested(
        "query", "--name", "workflow-parameters", "--bind", "name=lightcurve", "--format", "json"
    ).output
    params = [row["parameter"].value for row in parse_query_results(out, format=QueryResultsFormat.JSON)]
    assert params[:3] == ["src_name", "RA", "DEC"] and len(params) == 9
    out = harvested("query", "--name", "common-parameters", "--format", "json").output
    commons = {
        (r["common"].value, r["name"].value) for r in parse_query_results(out, format=QueryResultsFormat.JSON)
    }
    assert ("RA", "lightcurve") in commons and ("src_name", "gaia_stars") in commons


def test_hostile_binding_is_only_a_value(harvested):
    hostile = 'lightcurve" } } ; DROP ALL ; SELECT * { "'
    out = harvested(
        "query", "--name", "workflow-parameters", "--bind", f"name={hostile}", "--format", "json"
    ).output
    assert list(parse_query_results(out, format=QueryResultsFormat.JSON)) == []
    assert len(json.loads(harvested("workflows", "--json").output)) == 9


def test_query_usage_errors(harvested):
    assert (
        "needs --bind for: type"
        in harvested("query", "--name", "workflows-by-parameter-type", expect=2).output
    )
    assert "no named query 'nope'" in harvested("query", "--name", "nope", expect=2).output
    assert "exactly one of" in harvested("query", expect=2).output
    assert "workflows-by-parameter-type" in harvested("query", "--list").output


def test_syntax_error_names_the_position(harvested):
    result = harvested("query", "SELECT ?x WHERE { ?x ?y }", expect=1)
    assert "query error" in result.output and "1:" in result.output


def test_export_and_import_round_trip(harvested, tmp_path, monkeypatch):
    harvested("export", str(tmp_path / "dump.trig"))
    exported = list(parse(path=str(tmp_path / "dump.trig"), format=RdfFormat.TRIG))
    monkeypatch.setenv("KG_STORE", str(tmp_path / "other"))
    harvested("import", str(tmp_path / "dump.trig"))
    harvested("export", str(tmp_path / "again.nq"))
    again = list(parse(path=str(tmp_path / "again.nq"), format=RdfFormat.N_QUADS))
    assert len(again) == len(exported) > 1000
    assert "nquads" in harvested("export", "--format", "turtle", expect=2).output


def test_bad_import_file_is_reported_and_the_others_load(kg, tmp_path):
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_text("<http://a> <http://b> <http://c> .\n")
    bad.write_text("<http://a> <http://b> <http://c> .\n<http://d> <http://e> .\n")
    result = kg("import", str(bad), str(good), "--graph", "http://example.org/g", expect=1)
    assert "bad.ttl" in result.output
    out = kg(
        "query",
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }",
        "--format",
        "csv",
    ).output
    assert out.splitlines()[1] == "1"


def test_validate_and_ontology_check(harvested):
    assert "9 of 9 workflow graphs conform" in harvested("validate").output
    assert "Consistent" in harvested("ontology", "check").output
    broken = ROOT / "tests" / "data" / "ontology" / "unsatisfiable.ttl"
    assert "unsatisfiable" in harvested("ontology", "check", str(broken), expect=1).output


def run_kg(*args: str, store: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KG), "--store", store, *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_installed_command_against_the_remote_store(oxigraph_server, tmp_path):
    from kg.store import RemoteStore

    with RemoteStore(oxigraph_server) as remote:
        remote.update("DROP ALL")
    done = run_kg("harvest", str(EXAMPLES), store=oxigraph_server, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = run_kg("workflows", "--json", store=oxigraph_server, cwd=tmp_path)
    assert len(json.loads(listed.stdout)) == 9
    usage = run_kg("query", store=oxigraph_server, cwd=tmp_path)
    assert usage.returncode == 2


def test_default_store_is_dot_kg_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("KG_STORE", raising=False)
    nb = tmp_path / "lightcurve.ipynb"
    shutil.copy(EXAMPLES / "lightcurve.ipynb", nb)
    done = subprocess.run(
        [str(KG), "harvest", str(nb)], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".kg" / "store").is_dir()
