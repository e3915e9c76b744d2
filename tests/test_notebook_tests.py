"""`kg test-notebooks` as CI uses it: real kernels, a real on-disk store, the exit status and the
results users read, and the test runs recorded in the graph."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner, Result
from nbformat.v4 import new_code_cell, new_notebook

from kg.cli import main
from kg.notebook_tests import find_notebooks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
UNDER_TEST = ROOT / "tests" / "data" / "notebooks_under_test"
S3_CREDENTIALS = {
    "endpoint": "https://s3.example.org",
    "bucket": "survey",
    "access_key": "AK",
    "secret_key": "x",
}

Kg = Callable[..., Result]


def kg_in(store: Path, **env: str | None) -> Kg:
    """`kg --store STORE ...` in-process, with runs in `STORE.runs` and `env` on top."""
    runner = CliRunner(env={"KG_STORE": None, "KG_RUNS_DIR": None, "KG_RESOURCES": None, **env})

    def kg(*args: str, expect: int) -> Result:
        result = runner.invoke(main, ["--store", str(store), *args], catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result

    return kg


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notebook-tests") / "store"


@pytest.fixture(scope="module")
def mixed(store: Path) -> dict[str, dict]:
    """The mixed directory tested once (exit 1 checked), its JSON results by notebook file name."""
    result = kg_in(store)(
        "test-notebooks", str(UNDER_TEST), "--exclude", "drafts/*", "--jobs", "2", "--json", expect=1
    )
    return {Path(r["notebook"]).name: r for r in json.loads(result.stdout)}


def write_notebook(path: Path, source: str, **metadata: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(source)], metadata=metadata), path)
    return path


def test_finding_skips_checkpoints_hidden_directories_outputs_and_excluded(tmp_path: Path) -> None:
    write_notebook(tmp_path / "a.ipynb", "1")
    write_notebook(tmp_path / "deep" / "er" / "b.ipynb", "2")
    write_notebook(tmp_path / "deep" / "test_b.ipynb", "3")
    write_notebook(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb", "1")
    write_notebook(tmp_path / ".hidden" / "c.ipynb", "4")
    output = write_notebook(tmp_path / "deep" / "b_run.ipynb", "2", papermill={"output_path": "b_run.ipynb"})
    write_notebook(tmp_path / "drafts" / "d.ipynb", "5")
    (tmp_path / "notes.txt").write_text("not a notebook")

    found = find_notebooks([tmp_path], ["drafts/*", "test_*"])

    assert [n.display for n in found.notebooks] == [
        str(tmp_path / "a.ipynb"),
        str(tmp_path / "deep/er/b.ipynb"),
    ]
    assert found.excluded == [str(tmp_path / "deep/test_b.ipynb"), str(tmp_path / "drafts/d.ipynb")]
    # a notebook named directly is tested even when it is a papermill output, and only once
    again = find_notebooks([tmp_path / "a.ipynb", output, tmp_path], ["*/*"])
    assert [n.display for n in again.notebooks] == [str(tmp_path / "a.ipynb"), str(output)]


def test_a_failing_notebook_fails_the_command_and_the_others_pass(mixed: dict[str, dict]) -> None:
    assert {name: r["result"] for name, r in mixed.items()} == {
        "bad_annotation.ipynb": "PASS",
        "failing.ipynb": "FAIL",
        "passing.ipynb": "PASS",
        "test_passing.ipynb": "PASS",
    }
    failing = mixed["failing.ipynb"]
    assert failing["status"] == "failed"
    assert failing["error"] == "ZeroDivisionError: division by zero"
    assert "ratio(numerator, denominator)" in failing["traceback"]
    assert "\x1b[" not in failing["traceback"]
    assert all(r["duration_s"] > 0 for r in mixed.values())


def test_test_runs_are_recorded_in_the_graph(store: Path, mixed: dict[str, dict]) -> None:
    kg = kg_in(store)
    ids = {r["run"]: r["status"] for r in mixed.values()}
    listed = {r["id"]: r["status"] for r in json.loads(kg("runs", "--json", expect=0).stdout)}
    assert {run: listed.get(run) for run in ids} == ids
    marked = json.loads(
        kg(
            "query",
            "PREFIX kg: <https://w3id.org/oda-kg#> SELECT ?run WHERE { ?run kg:isTestRun true }",
            "--format",
            "json",
            expect=0,
        ).stdout
    )
    runs = {b["run"]["value"].rsplit("/", 1)[1] for b in marked["results"]["bindings"]}
    assert set(ids) <= runs
    shown = json.loads(kg("run", "show", mixed["failing.ipynb"]["run"], "--json", expect=0).stdout)
    assert shown["traceback"] == mixed["failing.ipynb"]["traceback"]


def test_a_notebook_harvest_rejects_still_runs_under_its_workflow_iri(
    store: Path, mixed: dict[str, dict]
) -> None:
    kg = kg_in(store)
    names = [w["name"] for w in json.loads(kg("workflows", "--json", expect=0).stdout)]
    assert "bad_annotation" not in names and "passing" in names
    shown = json.loads(kg("run", "show", mixed["bad_annotation.ipynb"]["run"], "--json", expect=0).stdout)
    assert shown["status"] == "completed" and shown["values"] == {}
    assert shown["workflow_iri"].startswith("https://w3id.org/oda-kg/workflow/bad_annotation-")


def test_notebooks_write_into_their_run_directory_not_beside_themselves(
    store: Path, mixed: dict[str, dict]
) -> None:
    assert not (UNDER_TEST / "answer.json").exists()
    run_dir = store.with_name("store.runs") / mixed["passing.ipynb"]["run"]
    assert json.loads((run_dir / "answer.json").read_text()) == {"answer": 42}
    assert (run_dir / "failing.ipynb").is_symlink()  # its neighbours are there to read


def test_the_report_shows_results_failures_and_counts_and_runs_always_execute(
    store: Path, mixed: dict[str, dict]
) -> None:
    output = kg_in(store)(
        "test-notebooks",
        str(UNDER_TEST / "passing.ipynb"),
        str(UNDER_TEST / "failing.ipynb"),
        "--jobs",
        "2",
        expect=1,
    ).stdout
    assert "PASS" in output and "FAIL" in output
    assert "ZeroDivisionError: division by zero" in output and "ratio(numerator, denominator)" in output
    assert "1 passed, 1 failed" in output
    passing_runs = json.loads(kg_in(store)("runs", "--workflow", "passing", "--json", expect=0).stdout)
    assert [r["status"] for r in passing_runs] == ["completed", "completed"]  # executed again, not cached


def test_a_notebook_that_cannot_be_planned_fails_without_running(tmp_path: Path) -> None:
    result = kg_in(tmp_path / "store")(
        "test-notebooks", str(EXAMPLES / "photometry_band.ipynb"), "--json", expect=1
    )
    [outcome] = json.loads(result.stdout)
    assert outcome["result"] == "FAIL" and outcome["duration_s"] is None
    assert "MY_S3_CREDENTIALS" in outcome["error"] and "KG_RESOURCES" in outcome["error"]
    listed = json.loads(kg_in(tmp_path / "store")("runs", "--json", expect=0).stdout)
    assert [(r["id"], r["status"]) for r in listed] == [(outcome["run"], "failed")]


def test_a_file_that_is_no_notebook_fails_with_harvests_message(tmp_path: Path) -> None:
    (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "broken.ipynb").write_text("{")
    result = kg_in(tmp_path / "store")("test-notebooks", str(tmp_path / "nbs"), "--json", expect=1)
    [outcome] = json.loads(result.stdout)
    assert outcome["result"] == "FAIL" and outcome["run"] is None
    assert outcome["error"].startswith("invalid JSON")


def test_nothing_to_test_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kg = kg_in(tmp_path / "store")
    monkeypatch.chdir(write_notebook(tmp_path / "nbs" / "only.ipynb", "1").parent)
    assert (
        "no notebooks to test under . (1 excluded by --exclude)"
        in kg("test-notebooks", "--exclude", "only.ipynb", expect=2).output
    )
    (tmp_path / "notes.txt").write_text("text")
    assert "not a notebook (.ipynb)" in kg("test-notebooks", str(tmp_path / "notes.txt"), expect=2).output


def test_the_examples_pass_with_the_s3_resource_configured(tmp_path: Path) -> None:
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps({"oda:S3": S3_CREDENTIALS}))
    before = sorted(EXAMPLES.rglob("*"))
    kg = kg_in(tmp_path / "store", KG_RESOURCES=str(resources))
    results = json.loads(kg("test-notebooks", str(EXAMPLES), "--jobs", "2", "--json", expect=0).stdout)
    assert sorted(Path(r["notebook"]).relative_to(EXAMPLES).as_posix() for r in results) == [
        "image_cutout.ipynb",
        "lightcurve.ipynb",
        "mmoda-repo/notebooks/flux_ratio.ipynb",
        "mmoda-repo/notebooks/gaia_stars.ipynb",
        "mmoda-repo/notebooks/test_flux_ratio.ipynb",
        "photometry_band.ipynb",
        "simbad_position.ipynb",
        "spectrum_fit.ipynb",
        "test_lightcurve.ipynb",
    ]
    assert {r["result"] for r in results} == {"PASS"}, [r["error"] for r in results]
    assert sorted(EXAMPLES.rglob("*")) == before
