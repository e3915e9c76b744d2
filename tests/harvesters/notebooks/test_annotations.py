"""The annotation mini-language: every documented form, read the same way MMODA means it."""

from __future__ import annotations

import pytest

from harvesters.notebooks.annotations import IRI, parse_annotation
from kg.namespaces import ODA, UNIT
from kg.ontology import default_ontology

ODA_NS = ODA.iri


@pytest.fixture(scope="module")
def ontology():
    return default_ontology()


@pytest.mark.parametrize(
    ("text", "classes", "properties"),
    [
        ("oda:Float", [ODA_NS + "Float"], []),
        ("oda:AngleDegrees; oda:upper_limit 10", [ODA_NS + "AngleDegrees"], [(ODA_NS + "upper_limit", [10])]),
        (
            "oda:String; oda:allowed_value 'b','g','r'",
            [ODA_NS + "String"],
            [(ODA_NS + "allowed_value", ["b", "g", "r"])],
        ),
        ("oda:Float; oda:GeV", [ODA_NS + "Float", ODA_NS + "GeV"], []),
        ("oda:Float; oda:unit unit:GeV", [ODA_NS + "Float"], [(ODA_NS + "unit", [IRI(UNIT.iri + "GeV")])]),
        ("oda:Float, oda:optional", [ODA_NS + "Float", ODA_NS + "optional"], []),
        ("oda:limits 1, 100", [], [(ODA_NS + "limits", [1, 100])]),
        ("oda:Integer; oda:label 'Time bin'", [ODA_NS + "Integer"], [(ODA_NS + "label", ["Time bin"])]),
        (
            'oda:Float; oda:description "Radius of the region; in degrees"',
            [ODA_NS + "Float"],
            [(ODA_NS + "description", ["Radius of the region; in degrees"])],
        ),
        ('oda:Float; oda:group "Binning"', [ODA_NS + "Float"], [(ODA_NS + "group", ["Binning"])]),
        (
            "oda:StartTime ; oda:format oda:MJD",
            [ODA_NS + "StartTime"],
            [(ODA_NS + "format", [IRI(ODA_NS + "MJD")])],
        ),
        ("http://odahub.io/ontology#AstrophysicalObject", [ODA_NS + "AstrophysicalObject"], []),
        ("<http://odahub.io/ontology#AstrophysicalObject>", [ODA_NS + "AstrophysicalObject"], []),
        ("oda:Float oda:unit unit:keV", [ODA_NS + "Float"], [(ODA_NS + "unit", [IRI(UNIT.iri + "keV")])]),
        ("oda:Boolean; oda:label 'Use cache'", [ODA_NS + "Boolean"], [(ODA_NS + "label", ["Use cache"])]),
    ],
)
def test_documented_forms(ontology, text, classes, properties):
    annotation = parse_annotation(text, ontology)
    assert annotation.semantic
    assert annotation.classes == classes
    assert annotation.properties == properties
    assert annotation.problems == []


@pytest.mark.parametrize(
    "text",
    ["number of simulations", "see https://example.org for the method", "note: keep small", "TODO fix", ""],
)
def test_human_comments_are_kept_and_not_errors(ontology, text):
    annotation = parse_annotation(text, ontology)
    assert not annotation.semantic
    assert annotation.text == text
    assert annotation.problems == []


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        ("oda:Flaot", "unknown-class", "did you mean oda:Float?"),
        ("oda:String; oda:allowed_values 'a','b'", "unknown-property", "did you mean oda:allowed_value?"),
        ("https://odahub.io/ontology/#Float", "wrong-namespace", "read as http://odahub.io/ontology#Float"),
        ("oda:Float; oda:label", "missing-value", "needs a value"),
        ("oda:Float; odd:thing 3", "unknown-prefix", "unknown prefix 'odd:'"),
    ],
)
def test_problems_name_the_fix(ontology, text, code, fragment):
    problems = parse_annotation(text, ontology).problems
    assert [p.code for p in problems] == [code]
    assert fragment in problems[0].message


def test_wrong_namespace_is_read_as_the_oda_term(ontology):
    annotation = parse_annotation("https://odahub.io/ontology/#Float", ontology)
    assert annotation.classes == [ODA_NS + "Float"]


def test_typo_property_keeps_its_values(ontology):
    annotation = parse_annotation("oda:String; oda:allowed_values 'a','b'", ontology)
    assert annotation.properties == [(ODA_NS + "allowed_values", ["a", "b"])]


def test_url_inside_a_string_survives(ontology):
    annotation = parse_annotation('oda:reference "https://doi.org/10.1051/0004-6361/202039469"', ontology)
    assert annotation.properties == [(ODA_NS + "reference", ["https://doi.org/10.1051/0004-6361/202039469"])]
