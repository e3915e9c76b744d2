"""Describing one notebook: meaning of annotations, and diagnostics that say where."""

from __future__ import annotations

import json

import pytest

from harvesters.notebooks.model import Repository
from harvesters.notebooks.notebook import describe_notebook
from kg.iris import workflow_iri
from kg.namespaces import ODA, RDF, UNIT, XSD
from kg.ontology import default_ontology

ODA_NS = ODA.iri
REPO = Repository(root="/repo", iri="file:///repo")


def describe(path):
    return describe_notebook(path, path.name, REPO, path.name, default_ontology())


def parameter(write_notebook, line: str):
    result = describe(write_notebook("nb.ipynb", parameters=line + "\n"))
    assert result.errors == []
    (p,) = result.workflow.parameters
    return p, result


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x = 2.5  # oda:Float", {"datatype": XSD.float.value, "default": 2.5}),
        ("x = 3  # oda:Float", {"default": 3.0}),
        ("n = 7", {"classes": [ODA_NS + "Integer"], "datatype": XSD.integer.value, "default": 7}),
        ("x = 0.5", {"classes": [ODA_NS + "Float"], "default": 0.5}),
        ("s = 'Crab'", {"classes": [ODA_NS + "String"], "default": "Crab"}),
        ("b = True", {"classes": [ODA_NS + "Boolean"], "default": True}),
        ("r = 3.0  # oda:AngleDegrees; oda:upper_limit 10", {"unit": UNIT.Degree.value, "upper_limit": 10}),
        ("band = 'g'  # oda:String; oda:allowed_value 'b','g','r'", {"allowed_values": ["b", "g", "r"]}),
        (
            "e = 1.0  # oda:Float; oda:GeV",
            {"unit": UNIT.GeV.value, "classes": [ODA_NS + "Float", ODA_NS + "GeV"]},
        ),
        ("e = 1.0  # oda:Float; oda:unit unit:GeV", {"unit": UNIT.GeV.value}),
        ("t: float | None = None  # oda:Float, oda:optional", {"optional": True, "default": None}),
        ("n = 5  # oda:Integer; oda:limits 1, 100", {"lower_limit": 1, "upper_limit": 100}),
        ("n = 5  # oda:Integer; oda:label 'Time bin'", {"label": "Time bin"}),
        ('n = 5  # oda:Integer; oda:description "Bins per day"', {"description": "Bins per day"}),
        ('n = 5  # oda:Integer; oda:group "Binning"', {"group": "Binning"}),
        (
            "t = 59000.0  # oda:StartTime ; oda:format oda:MJD",
            {"format": ODA_NS + "MJD", "common_name": "T1"},
        ),
        ("src = 'Mrk 421'  # http://odahub.io/ontology#AstrophysicalObject", {"common_name": "src_name"}),
        ("ra = 10.0  # oda:PointOfInterestRA", {"common_name": "RA", "unit": UNIT.Degree.value}),
        ("dec = 10.0  # oda:PointOfInterestDEC", {"common_name": "DEC"}),
        ("t1 = 59000.0  # oda:StartTimeMJD", {"common_name": "T1", "format": ODA_NS + "MJD"}),
        ("t2 = '2022-01-01'  # oda:EndTimeISOT", {"common_name": "T2"}),
        ("e = 30.0  # oda:ISGRIEnergy", {"lower_limit": 15.0, "upper_limit": 800.0, "unit": UNIT.keV.value}),
        ("b = 'g'  # oda:VisibleBand", {"allowed_values": ["b", "g", "r", "v"]}),
        ("f = 'data/events.fits'  # oda:POSIXPath", {"classes": [ODA_NS + "POSIXPath"]}),
        ("u = ''  # oda:FileURL", {"classes": [ODA_NS + "FileURL"]}),
        (
            "n = 1000  # number of simulations",
            {"annotation": "number of simulations", "classes": [ODA_NS + "Integer"]},
        ),
        ("m = {'a': 1}  # oda:String", {"default": {"a": 1}}),
        ("n: int = 20", {"classes": [ODA_NS + "Integer"]}),
        ("t: float | None = None", {"classes": [ODA_NS + "Float"], "optional": True}),
    ],
)
def test_annotation_meaning(write_notebook, line, expected):
    p, _ = parameter(write_notebook, line)
    for field, value in expected.items():
        assert getattr(p, field) == value, field


@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    [
        ("x = 1.0  # oda:Flaot", "unknown-class", "did you mean oda:Float?"),
        (
            "x = 'a'  # oda:String; oda:allowed_values 'a'",
            "unknown-property",
            "did you mean oda:allowed_value?",
        ),
        (
            "x = 1.0  # https://odahub.io/ontology/#Float",
            "wrong-namespace",
            "http://odahub.io/ontology#Float",
        ),
        (
            "x = 1.0  # oda:Float; oda:lower_limit 5; oda:upper_limit 1",
            "limits-order",
            "lower limit 5 is above upper limit 1",
        ),
        ("x = 20.0  # oda:Float; oda:upper_limit 10", "default-out-of-limits", "above the upper limit 10"),
        ("x = -1  # oda:Integer; oda:limits 0, 5", "default-out-of-limits", "below the lower limit 0"),
        (
            "b = 'z'  # oda:String; oda:allowed_value 'b','g'",
            "default-not-allowed",
            "'z' is not one of 'b', 'g'",
        ),
        ("x = np.pi  # oda:Float", "default-not-literal", "np.pi"),
    ],
)
def test_warnings_keep_the_notebook(write_notebook, line, code, fragment):
    result = describe(write_notebook("nb.ipynb", parameters="import numpy as np\n" + line + "\n"))
    assert result.ok
    (warning,) = [d for d in result.warnings if d.code == code]
    assert fragment in warning.message
    assert (warning.file, warning.cell, warning.line) == ("nb.ipynb", 2, 2)


@pytest.mark.parametrize(
    ("line", "code", "fragment"),
    [
        ("n = 1.5  # oda:Integer", "type-mismatch", "default 1.5 is not a valid value for oda:Integer"),
        ("x = 'abc'  # oda:Float", "type-mismatch", "default 'abc' is not a valid value for oda:Float"),
        ("b = 1  # oda:Boolean", "type-mismatch", "oda:Boolean"),
        ("x = 1.0  # oda:Float, oda:Integer", "ambiguous-type", "conflicting value types"),
        ("x = (1,", "syntax-error", "syntax error"),
    ],
)
def test_errors_stop_the_notebook(write_notebook, line, code, fragment):
    result = describe(write_notebook("nb.ipynb", parameters="y = 1\n" + line + "\n"))
    assert not result.ok
    (err,) = result.errors
    assert err.code == code and fragment in err.message
    assert (err.file, err.cell) == ("nb.ipynb", 2)
    assert err.line is not None and err.line >= 2


def test_invalid_json_is_an_error_with_its_position(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [}')
    result = describe(path)
    (err,) = result.errors
    assert err.code == "invalid-json" and "line 1, column 12" in err.message


def test_not_a_notebook_and_old_format(tmp_path):
    a, b = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    a.write_text("[1, 2]")
    b.write_text(json.dumps({"worksheets": [], "cells": [], "nbformat": 3}))
    assert [d.code for d in describe(a).errors] == ["not-a-notebook"]
    assert [d.code for d in describe(b).errors] == ["nbformat"]


def test_integer_written_as_float_is_accepted_with_a_warning(write_notebook):
    p, result = parameter(write_notebook, "n = 2.0  # oda:Integer")
    assert p.default == 2 and isinstance(p.default, int)
    assert [d.code for d in result.warnings] == ["integer-as-float"]


def test_comment_on_first_line_of_a_multi_line_assignment(write_notebook):
    p, _ = parameter(write_notebook, 'model = {  # oda:String ; oda:label "Model"\n  "index": 2.0,\n}')
    assert p.label == "Model" and p.default == {"index": 2.0}


def test_notebook_level_annotations(write_notebook):
    parameters = "\n".join(
        [
            '# oda:version "v0.1.1"',
            '# oda:reference "https://doi.org/10.1051/0004-6361/202039469"',
            "# oda:usesRequiredResource oda:MyS3 .",
            "# oda:MyS3 a oda:S3 .",
            '# oda:MyS3 oda:resourceBindingEnvVarName "MY_S3_CREDENTIALS" .',
            "# oda:usesOptionalResource oda:MyDask .",
            "# oda:MyDask a oda:Dask ; oda:memory_per_process 2000 ; oda:n_processes 4 .",
            "# Parameters of the analysis",
            "x = 1.0  # oda:Float",
        ]
    )
    result = describe(write_notebook("nb.ipynb", parameters=parameters))
    assert result.diagnostics == []
    wf = workflow_iri(result.workflow.key)

    def short(term):
        return "WF" if term == wf else term.value.replace(ODA_NS, "oda:").replace(RDF.type.value, "a")

    statements = {tuple(map(short, (t.subject, t.predicate, t.object))) for t in result.workflow.statements}
    assert statements == {
        ("WF", "oda:version", "v0.1.1"),
        ("WF", "oda:reference", "https://doi.org/10.1051/0004-6361/202039469"),
        ("WF", "oda:usesRequiredResource", "oda:MyS3"),
        ("oda:MyS3", "a", "oda:S3"),
        ("oda:MyS3", "oda:resourceBindingEnvVarName", "MY_S3_CREDENTIALS"),
        ("WF", "oda:usesOptionalResource", "oda:MyDask"),
        ("oda:MyDask", "a", "oda:Dask"),
        ("oda:MyDask", "oda:memory_per_process", "2000"),
        ("oda:MyDask", "oda:n_processes", "4"),
    }


def test_unreadable_notebook_level_annotation_is_a_warning(write_notebook):
    result = describe(write_notebook("nb.ipynb", parameters="# oda:version v0.1 oops (\nx = 1\n"))
    assert result.ok
    (w,) = result.warnings
    assert w.code == "bad-statement" and w.line == 1


def test_unknown_property_in_notebook_level_annotation(write_notebook):
    result = describe(write_notebook("nb.ipynb", parameters='# oda:verison "v1"\nx = 1\n'))
    (w,) = result.warnings
    assert w.code == "unknown-property" and "did you mean oda:version?" in w.message


def test_outputs_and_result_comment(write_notebook):
    outputs = (
        "lc = table  # oda:LightCurve; oda:label 'Light curve'\n"
        "comment = msg  # oda:WorkflowResultComment\n"
        "plain = 3\n"
    )
    result = describe(write_notebook("nb.ipynb", parameters="x = 1\n", outputs=outputs))
    lc, comment, plain = result.workflow.outputs
    assert (lc.name, lc.classes, lc.label, lc.is_comment) == (
        "lc",
        [ODA_NS + "LightCurve"],
        "Light curve",
        False,
    )
    assert comment.is_comment and not plain.is_comment


def test_injected_parameters_override_values_and_keep_annotations(write_notebook):
    path = write_notebook(
        "out.ipynb",
        parameters="nbins = 20  # oda:Integer; oda:limits 1, 100\n",
        injected="nbins = 50\nmystery = 1\n",
        metadata={"papermill": {"input_path": "in.ipynb", "output_path": "out.ipynb"}},
    )
    result = describe(path)
    (p,) = result.workflow.parameters
    assert p.default == 50 and p.classes == [ODA_NS + "Integer"] and p.upper_limit == 100
    assert result.papermill_output
    assert [d.code for d in result.warnings] == ["unknown-injected"]


def test_content_hash_ignores_metadata_and_outputs(write_notebook, tmp_path):
    path = write_notebook("nb.ipynb", parameters="x = 1\n")
    before = describe(path).workflow.content_hash
    data = json.loads(path.read_text())
    data["metadata"]["saved_by"] = "someone"
    data["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    path.write_text(json.dumps(data))
    assert describe(path).workflow.content_hash == before
    data["cells"][1]["source"] = ["x = 2\n"]
    path.write_text(json.dumps(data))
    assert describe(path).workflow.content_hash != before


def test_test_notebooks_are_marked(write_notebook):
    assert describe(write_notebook("test_thing.ipynb", parameters="x = 1\n")).workflow.is_test
    assert not describe(write_notebook("thing.ipynb", parameters="x = 1\n")).workflow.is_test


def test_duplicate_parameter_keeps_last_value_and_first_position(write_notebook):
    result = describe(write_notebook("nb.ipynb", parameters="a = 1\nb = 2\na = 3\n"))
    assert [(p.name, p.position, p.default) for p in result.workflow.parameters] == [("a", 0, 3), ("b", 1, 2)]
    assert [d.code for d in result.warnings] == ["duplicate-parameter"]
