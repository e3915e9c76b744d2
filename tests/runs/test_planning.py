"""Planning: what must hold before a kernel starts, checked against real harvested notebooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harvesters.notebooks import harvest
from kg.runs.config import RunConfig
from kg.runs.planning import PlanningError, harvested_key, plan_run
from kg.runs.values import InvalidValues
from kg.store import EmbeddedStore

ROOT = Path(__file__).resolve().parents[2]
LIGHTCURVE = ROOT / "examples" / "lightcurve.ipynb"


@pytest.fixture
def store(tmp_path: Path):
    with EmbeddedStore(tmp_path / "store") as store:
        harvest([LIGHTCURVE], store)
        yield store


@pytest.fixture
def config(tmp_path: Path) -> RunConfig:
    return RunConfig(runs_dir=tmp_path / "runs")


def test_a_plan_holds_every_value_the_objects_and_a_cache_key(store, config) -> None:
    plan = plan_run(store, "lightcurve", {"src_name": "Mrk 501", "nbins": "30"}, config)
    run = plan.run
    assert run.workflow_name == "lightcurve" and run.id.startswith("lightcurve-")
    assert run.values["nbins"] == 30 and run.values["src_name"] == "Mrk 501"
    assert run.values["events_file"] == str(ROOT / "examples" / "data" / "events.fits")  # made absolute
    assert run.objects == ("Mrk 501",) and run.notebook == str(LIGHTCURVE)
    assert run.cache_key.startswith("sha256:") and run.status.value == "planned"
    same = plan_run(store, "lightcurve", {"src_name": "Mrk 501", "nbins": 30}, config).run
    other = plan_run(store, "lightcurve", {"src_name": "Mrk 501", "nbins": 31}, config).run
    assert same.cache_key == run.cache_key != other.cache_key and same.id != run.id


def test_common_names_reach_the_notebooks_own_variables(store, config) -> None:
    plan = plan_run(store, "lightcurve", {"RA": "10.5", "T1": "2022-01-02T00:00:00"}, config)
    assert plan.run.values["RA"] == 10.5 and plan.run.values["T1"] == "2022-01-02T00:00:00"


def test_invalid_values_are_refused_together(store, config) -> None:
    with pytest.raises(InvalidValues) as refused:
        plan_run(store, "lightcurve", {"nbins": 0, "extraction_radius": 2}, config)
    assert len(refused.value.problems) == 2


def test_a_notebook_changed_since_its_harvest_must_be_harvested_again(tmp_path, config) -> None:
    notebook = tmp_path / "lightcurve.ipynb"
    shutil.copy(LIGHTCURVE, notebook)
    (tmp_path / "data").symlink_to(ROOT / "examples" / "data")
    with EmbeddedStore(tmp_path / "store") as store:
        harvest([notebook], store)
        notebook.write_text(notebook.read_text().replace("report_progress(", "report_progress ("))
        with pytest.raises(PlanningError, match="changed since it was harvested: run `kg harvest"):
            plan_run(store, "lightcurve", {}, config)
        again = harvested_key(store, str(notebook))  # a path harvests it first
        assert plan_run(store, again, {}, config).run.content_hash != ""


def test_a_notebook_path_that_is_not_a_workflow_is_refused_with_its_errors(tmp_path, store, config) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{")
    with pytest.raises(PlanningError, match=r"broken.ipynb cannot be run: .*invalid JSON"):
        harvested_key(store, str(broken))
