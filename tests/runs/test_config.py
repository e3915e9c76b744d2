"""The run configuration read from the environment: defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.runs.config import DEFAULT_ASTROQUERY_TIMEOUT_S, ConfigError, RunConfig


def test_defaults_put_runs_beside_the_store() -> None:
    config = RunConfig.from_env("/srv/kg/store", env={})
    assert config.runs_dir == Path("/srv/kg/store.runs")
    assert config.resources == {} and not config.allow_file_urls
    assert config.astroquery_timeout_s == DEFAULT_ASTROQUERY_TIMEOUT_S and config.cell_timeout_s is None
    assert RunConfig.from_env("http://kg.example.org/sparql", env={}).runs_dir == Path(".kg/runs")


def test_every_setting_comes_from_its_variable(tmp_path: Path) -> None:
    resources = tmp_path / "resources.json"
    resources.write_text('{"oda:S3": {"secret_key": "k"}}')
    env = {
        "KG_RUNS_DIR": str(tmp_path / "runs"),
        "KG_RESOURCES": str(resources),
        "KG_ALLOW_FILE_URLS": "yes",
        "KG_ASTROQUERY_TIMEOUT": "5",
        "KG_CELL_TIMEOUT": "600",
        "KG_KERNEL": "python3",
    }
    config = RunConfig.from_env(None, env=env)
    assert config.runs_dir == tmp_path / "runs" and config.resources == {"oda:S3": {"secret_key": "k"}}
    assert config.allow_file_urls and config.astroquery_timeout_s == 5.0 and config.cell_timeout_s == 600.0
    assert "secret_key" not in repr(config)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KG_RESOURCES": "/nonexistent/resources.json"}, "cannot read it"),
        ({"KG_ASTROQUERY_TIMEOUT": "soon"}, "KG_ASTROQUERY_TIMEOUT='soon': expected a positive number"),
        ({"KG_CELL_TIMEOUT": "-1"}, "KG_CELL_TIMEOUT='-1'"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig.from_env(None, env=env)


def test_a_resources_file_that_is_not_a_json_object_is_refused(tmp_path: Path) -> None:
    for text, message in (("{oops", "not JSON"), ("[1, 2]", "expected a JSON object")):
        (tmp_path / "r.json").write_text(text)
        with pytest.raises(ConfigError, match=message):
            RunConfig.from_env(None, env={"KG_RESOURCES": str(tmp_path / "r.json")})
