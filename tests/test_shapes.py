"""SHACL validation of harvested workflow graphs (ontology/shapes.ttl via kg.shapes)."""

from __future__ import annotations

import pytest
from pyoxigraph import RdfFormat, Triple, parse

from kg.shapes import ShapesReport, validate

WF = "https://w3id.org/oda-kg/workflow/lightcurve-0123456789ab"
HASH = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

GOOD = f"""
@prefix oda: <http://odahub.io/ontology#> .
@prefix unit: <http://odahub.io/ontology/unit#> .
@prefix kg: <https://w3id.org/oda-kg#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<{WF}> a oda:Workflow, prov:Plan, schema:SoftwareSourceCode ;
    schema:name "lightcurve" ;
    kg:notebookPath "notebooks/lightcurve.ipynb" ;
    schema:codeRepository <https://gitlab.example.org/mmoda/lightcurve> ;
    kg:commit "4f1c2e9d" ;
    kg:contentHash "{HASH}" ;
    kg:isTest false ;
    oda:version "1.2" ;
    kg:hasParameter <{WF}/parameter/src_name>, <{WF}/parameter/RA>, <{WF}/parameter/E1_keV>,
        <{WF}/parameter/band> ;
    kg:hasOutput <{WF}/output/lc>, <{WF}/output/comment> .

<{WF}/parameter/src_name> a kg:Parameter, oda:AstrophysicalObject ;
    schema:name "src_name" ; kg:position 0 ; schema:defaultValue "Mrk 421" ;
    kg:commonParameter "src_name" ; kg:annotation "# oda:AstrophysicalObject" .

<{WF}/parameter/RA> a kg:Parameter, oda:PointOfInterestRA ;
    schema:name "RA" ; kg:position 1 ; schema:defaultValue 166.113808e0 ;
    oda:unit unit:Degree ; kg:commonParameter "RA" .

<{WF}/parameter/E1_keV> a kg:Parameter, oda:Float, oda:keV ;
    schema:name "E1_keV" ; kg:position 2 ; schema:defaultValue 28.0e0 ;
    oda:lower_limit 15 ; oda:upper_limit 800.0 ; oda:unit unit:keV ;
    oda:label "Minimum energy" ; oda:group "Energy range" .

<{WF}/parameter/band> a kg:Parameter, oda:VisibleBand, oda:optional ;
    schema:name "band" ; kg:position 3 ; kg:optional true ;
    oda:allowed_value "b", "g", "r", "v" .

<{WF}/output/lc> a kg:Output, oda:LightCurve ; schema:name "lc" ; oda:label "Light curve" .

<{WF}/output/comment> a kg:Output, oda:WorkflowResultComment ; schema:name "comment" ; kg:isComment true .
"""


def check(turtle: str) -> ShapesReport:
    return validate(turtle)


def only_violation(report: ShapesReport, focus: str):
    """The single result about `focus` (the workflow's sh:node echo is about the workflow)."""
    assert not report.conforms
    about = [r for r in report.results if r.focus_node == focus]
    assert len(about) == 1, report.text
    return about[0]


def test_good_workflow_conforms():
    report = check(GOOD)
    assert report.conforms, report.text
    assert report.results == []


def test_accepts_pyoxigraph_triples():
    triples = [q.triple for q in parse(GOOD, format=RdfFormat.TURTLE)]
    assert all(isinstance(t, Triple) for t in triples)
    assert validate(triples).conforms


def test_missing_workflow_name_is_reported():
    report = check(GOOD.replace('schema:name "lightcurve" ;', ""))
    violation = only_violation(report, WF)
    assert violation.path == "http://schema.org/name"
    assert "exactly one schema:name" in violation.message
    assert violation.severity == "Violation"


def test_bad_content_hash_is_reported_with_the_value():
    bad = "sha256:9F86D081"  # upper case and too short
    report = check(GOOD.replace(HASH, bad))
    violation = only_violation(report, WF)
    assert violation.path == "https://w3id.org/oda-kg#contentHash"
    assert violation.value == bad
    assert "64 lower-case hex digits" in violation.message


def test_unknown_common_parameter_is_reported():
    report = check(GOOD.replace('kg:commonParameter "RA"', 'kg:commonParameter "XYZ"'))
    violation = only_violation(report, f"{WF}/parameter/RA")
    assert violation.path == "https://w3id.org/oda-kg#commonParameter"
    assert violation.value == "XYZ"
    assert '"RA", "DEC", "T1", "T2", "src_name"' in violation.message
    # The workflow is told that one of its parameters is wrong.
    echo = [r for r in report.results if r.focus_node == WF]
    assert [r.path for r in echo] == ["https://w3id.org/oda-kg#hasParameter"]


def test_two_default_values_are_reported():
    report = check(GOOD.replace('schema:defaultValue "Mrk 421"', 'schema:defaultValue "Mrk 421", "Crab"'))
    violation = only_violation(report, f"{WF}/parameter/src_name")
    assert violation.path == "http://schema.org/defaultValue"
    assert "at most one schema:defaultValue" in violation.message


def test_missing_workflow_types_are_reported():
    report = check(GOOD.replace("a oda:Workflow, prov:Plan, schema:SoftwareSourceCode", "a oda:Workflow"))
    messages = sorted(r.message for r in report.results if r.focus_node == WF)
    assert messages == [
        "A workflow must also be typed prov:Plan.",
        "A workflow must also be typed schema:SoftwareSourceCode.",
    ]


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [
        ("kg:position 1 ;", "kg:position -1 ;", "https://w3id.org/oda-kg#position", "non-negative"),
        ("kg:position 1 ;", 'kg:position "1" ;', "https://w3id.org/oda-kg#position", "xsd:integer"),
        ("oda:unit unit:Degree", 'oda:unit "deg"', "http://odahub.io/ontology#unit", "must be an IRI"),
    ],
)
def test_malformed_parameter_values_are_reported(old, new, path, fragment):
    violation = only_violation(check(GOOD.replace(old, new)), f"{WF}/parameter/RA")
    assert violation.path == path
    assert fragment in violation.message


def test_limits_must_be_ordered_numbers():
    limits = "oda:lower_limit 15 ; oda:upper_limit 800.0"
    report = check(GOOD.replace(limits, 'oda:lower_limit 900 ; oda:upper_limit "high"'))
    messages = {r.message for r in report.results if r.focus_node == f"{WF}/parameter/E1_keV"}
    assert "oda:upper_limit must be a number." in messages
    assert "oda:lower_limit must not exceed oda:upper_limit." in messages


def test_subclass_of_workflow_and_untyped_parameter_are_checked():
    """Targets reach oda:DiscoveryWorkflow (a subclass) and nodes typed only by kg:hasParameter's range."""
    turtle = (
        GOOD.replace("a oda:Workflow,", "a oda:DiscoveryWorkflow,")
        .replace("a kg:Parameter, oda:VisibleBand, oda:optional ;", "a oda:VisibleBand ;")
        .replace('schema:name "band" ;', "")
        .replace('schema:name "lightcurve" ;', "")
    )
    report = check(turtle)
    focus_paths = {(r.focus_node, r.path) for r in report.results}
    assert (WF, "http://schema.org/name") in focus_paths
    assert (f"{WF}/parameter/band", "http://schema.org/name") in focus_paths


def test_output_needs_a_name():
    violation = only_violation(check(GOOD.replace('schema:name "lc" ;', "")), f"{WF}/output/lc")
    assert violation.path == "http://schema.org/name"
    assert "An output needs exactly one schema:name" in violation.message
