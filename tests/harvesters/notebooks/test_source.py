"""Static reading of cells: assignments, values and every comment of a statement."""

from __future__ import annotations

from harvesters.notebooks.source import NotLiteral, read_cell


def test_plain_and_annotated_assignments():
    cell = read_cell("a = 1  # oda:Integer\nb: float | None = None  # oda:Float, oda:optional\n")
    a, b = cell.assignments
    assert (a.name, a.value, a.line, a.comments) == ("a", 1, 1, [(1, "oda:Integer")])
    assert (b.name, b.value, b.python_type) == ("b", None, "float | None")


def test_multi_line_values_keep_comments_on_any_line():
    source = 'model = {  # oda:String ; oda:label "Model"\n    "index": 2.0,  # photon index\n}\n'
    (model,) = read_cell(source).assignments
    assert model.value == {"index": 2.0}
    assert model.comments == [(1, 'oda:String ; oda:label "Model"'), (2, "photon index")]


def test_comment_on_last_line_of_a_multi_line_list():
    (energies,) = read_cell("energies = [\n    1.0,\n    10.0,\n]  # oda:Float\n").assignments
    assert energies.value == [1.0, 10.0]
    assert energies.comments == [(4, "oda:Float")]


def test_triple_quoted_string():
    (query,) = read_cell('query = """SELECT *\nFROM gaia"""  # oda:LongString\n').assignments
    assert query.value == "SELECT *\nFROM gaia"
    assert query.comments == [(2, "oda:LongString")]


def test_standalone_comments_are_separate():
    cell = read_cell('# oda:version "v1"\nx = 1\n# a note\n')
    assert cell.standalone_comments == [(1, 'oda:version "v1"'), (3, "a note")]


def test_expressions_are_not_evaluated():
    (x,) = read_cell("import numpy as np\nx = np.pi * 2\n").assignments
    assert isinstance(x.value, NotLiteral) and x.value.source == "np.pi * 2"


def test_ipython_magics_do_not_break_parsing():
    cell = read_cell("%matplotlib inline\n!echo hi\nx = 2\n")
    assert [a.name for a in cell.assignments] == ["x"]
    assert cell.problems == []


def test_syntax_error_reports_its_line():
    cell = read_cell("x = 1\ny = (2,\n")
    assert [p.code for p in cell.problems] == ["syntax-error"]
    assert cell.problems[0].line is not None and cell.problems[0].line >= 2


def test_hashes_inside_strings_are_not_comments():
    source = (
        'a = "channel #3"  # oda:String\n'
        "b = 'it\\'s #1'\n"
        'c = """\n# not a comment\n"""  # oda:LongString\n'
        "d = f'{a}#x'  # real\n"
        "e = b'#'\n"
    )
    cell = read_cell(source)
    assert [(x.name, x.comments) for x in cell.assignments] == [
        ("a", [(1, "oda:String")]),
        ("b", []),
        ("c", [(5, "oda:LongString")]),
        ("d", [(6, "real")]),
        ("e", []),
    ]
    assert cell.assignments[2].value == "\n# not a comment\n"
    assert cell.standalone_comments == []


def test_type_annotation_with_non_ascii_text_before_it():
    (x,) = read_cell("é_ratio: float | None = None  # oda:Float\n").assignments
    assert x.python_type == "float | None"
