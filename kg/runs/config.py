"""How this platform runs notebooks: where runs go, which resources it can bind, what it allows.

Read from the environment (the same variables for `kg run`, `kg serve` and Dask workers' parents),
with CLI options on top. Credentials are read from a JSON file named by `KG_RESOURCES`, never
from the command line, so they stay out of shell history and process listings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kg.store import DEFAULT_LOCATION

#: Seconds astroquery may wait for a server's answer inside a run.
DEFAULT_ASTROQUERY_TIMEOUT_S = 60.0


class ConfigError(ValueError):
    """The run configuration cannot be used as given."""


@dataclass(frozen=True)
class RunConfig:
    runs_dir: Path
    """Each run gets `runs_dir/<run id>/`: its working directory, executed notebook and outputs."""
    resources: Mapping[str, object] = field(default_factory=dict, repr=False)
    """Resource kind (`oda:S3`, or the resource's own IRI/CURIE) -> credentials (any JSON value),
    given to a run's kernel as JSON in the resource's `oda:resourceBindingEnvVarName`."""
    allow_file_urls: bool = False
    """Whether `oda:FileURL` parameters may name URLs for notebooks to fetch."""
    astroquery_timeout_s: float = DEFAULT_ASTROQUERY_TIMEOUT_S
    cell_timeout_s: float | None = None
    """Longest a single cell may run; None for no limit."""
    kernel_name: str = "python3"

    @classmethod
    def from_env(cls, store_location: str | None, env: Mapping[str, str] = os.environ) -> RunConfig:
        """`KG_RUNS_DIR` (default: `<store>.runs` beside an on-disk store, else `.kg/runs`),
        `KG_RESOURCES` (a JSON file), `KG_ALLOW_FILE_URLS`, `KG_ASTROQUERY_TIMEOUT`, `KG_CELL_TIMEOUT`,
        `KG_KERNEL`."""
        return cls(
            runs_dir=Path(env.get("KG_RUNS_DIR") or _default_runs_dir(store_location or env.get("KG_STORE"))),
            resources=_resources(env.get("KG_RESOURCES")),
            allow_file_urls=env.get("KG_ALLOW_FILE_URLS", "").lower() in ("1", "true", "yes"),
            astroquery_timeout_s=_seconds(env, "KG_ASTROQUERY_TIMEOUT") or DEFAULT_ASTROQUERY_TIMEOUT_S,
            cell_timeout_s=_seconds(env, "KG_CELL_TIMEOUT"),
            kernel_name=env.get("KG_KERNEL") or "python3",
        )


def _default_runs_dir(store_location: str | None) -> Path:
    location = store_location or str(DEFAULT_LOCATION)
    if location.startswith(("http://", "https://")) or location == "memory:":
        return Path(DEFAULT_LOCATION).with_name("runs")
    path = Path(location)
    return path.with_name(f"{path.name}.runs")


def _resources(path: str | None) -> dict[str, object]:
    if not path:
        return {}
    try:
        resources = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"KG_RESOURCES={path}: cannot read it: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise ConfigError(f"KG_RESOURCES={path}: not JSON: {error.msg} (line {error.lineno})") from error
    if not isinstance(resources, dict):
        raise ConfigError(f"KG_RESOURCES={path}: expected a JSON object of resource kind -> credentials")
    return resources


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    text = env.get(name)
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f"{name}={text!r}: expected a positive number of seconds")
    return seconds
