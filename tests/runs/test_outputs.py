"""Output values captured in a real kernel: each kind of value, its hash, inline or stored as a file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from astropy.table import QTable

from kg.runs.execute import execute
from kg.runs.hashing import canonical_json, sha256_hash
from kg.runs.model import Execution, OutputValue, Status
from kg.runs.outputs import INLINE_LIMIT

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
VALUES_OUTPUTS = [
    "spectrum",
    "total_counts",
    "flux",
    "catalogue",
    "report_file",
    "summary",
    "long_series",
    "selected_orbits",
]


@pytest.fixture(scope="module")
def values_run(tmp_path_factory: pytest.TempPathFactory) -> Execution:
    """`exec_values.ipynb` (numpy, astropy, a file, a large array, a set) run with n = 4."""
    execution = execute(
        NOTEBOOKS / "exec_values.ipynb",
        {"n": 4},
        tmp_path_factory.mktemp("values") / "run",
        output_names=VALUES_OUTPUTS,
    )
    assert execution.status == Status.COMPLETED, execution.error
    return execution


def output(execution: Execution, name: str) -> OutputValue:
    return next(value for value in execution.outputs if value.name == name)


def run_dir(execution: Execution) -> Path:
    return Path(execution.executed_notebook).parent


def test_outputs_come_in_the_order_asked(values_run):
    assert [value.name for value in values_run.outputs] == VALUES_OUTPUTS


def test_a_numpy_array_keeps_dtype_shape_and_data(values_run):
    spectrum = output(values_run, "spectrum")
    assert spectrum.kind == "array"
    assert spectrum.value == {"dtype": "float64", "shape": [4], "data": [0.0, 0.5, 1.0, 1.5]}
    assert spectrum.value_hash == sha256_hash(canonical_json(spectrum.value))


def test_numpy_scalars_become_python_values_even_inside_containers(values_run):
    total = output(values_run, "total_counts")
    assert (total.kind, total.value) == ("json", 40)
    assert isinstance(total.value, int)
    summary = output(values_run, "summary")
    assert (summary.kind, summary.value) == ("json", {"n": 4, "mean": 0.75, "valid": True})


def test_a_quantity_keeps_its_unit(values_run):
    flux = output(values_run, "flux")
    assert (flux.kind, flux.value) == ("quantity", {"value": [1.5, 2.5], "unit": "erg / s"})


def test_an_astropy_table_is_kept_as_ecsv(values_run):
    catalogue = output(values_run, "catalogue")
    assert catalogue.kind == "table"
    assert catalogue.value["format"] == "ascii.ecsv"
    table = QTable.read(catalogue.value["text"], format="ascii.ecsv")
    assert list(table["name"]) == ["a", "b"]
    assert table["flux"].unit == "Jy"
    assert list(table["flux"].value) == [1.0, 2.0]


def test_a_string_naming_a_file_is_that_file_copied_and_hashed(values_run):
    report = output(values_run, "report_file")
    assert (report.kind, report.value, report.file) == (
        "file",
        "report.txt",
        "outputs/report_file/report.txt",
    )
    content = (run_dir(values_run) / report.file).read_bytes()
    assert content == b"n = 4\n"
    assert report.value_hash == f"sha256:{hashlib.sha256(content).hexdigest()}"


def test_a_large_value_is_stored_as_a_file_with_the_same_hash(values_run):
    series = output(values_run, "long_series")
    assert (series.kind, series.value, series.file) == ("array", None, "outputs/long_series.json")
    stored = (run_dir(values_run) / series.file).read_bytes()
    assert len(stored) > INLINE_LIMIT
    assert series.value_hash == sha256_hash(stored)
    assert json.loads(stored)["shape"] == [20_000]


def test_anything_else_is_kept_as_its_repr(values_run):
    orbits = output(values_run, "selected_orbits")
    assert (orbits.kind, orbits.value) == ("repr", "{1, 2, 3}")


def test_a_missing_output_variable_fails_the_run_naming_it(tmp_path):
    execution = execute(
        NOTEBOOKS / "exec_context.ipynb", {}, tmp_path / "run", output_names=["marker", "lightcurve"]
    )
    assert execution.status == Status.FAILED
    assert execution.error == "the notebook did not define its output 'lightcurve'"
    assert execution.outputs == []


def test_canonical_json_ignores_key_order_and_keeps_text_as_utf8():
    assert canonical_json({"b": [1, 2.5], "a": "Großer Wagen"}) == canonical_json(
        {"a": "Großer Wagen", "b": [1, 2.5]}
    )
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
