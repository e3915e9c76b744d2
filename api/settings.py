"""What the SPARQL service is configured with: CLI options over environment variables over defaults.

Tokens come only from the environment (or from a Settings built in code), never from
command-line flags, which other users of the machine can read in the process list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from kg.runs.executors import LazyExecutor
from kg.store import DEFAULT_LOCATION

MIB = 1024 * 1024
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    store: str = str(DEFAULT_LOCATION)
    """A directory, `memory:`, or the URL of a SPARQL 1.1 store."""
    write_tokens: tuple[str, ...] = ()
    """Bearer tokens that may write; none means every write is refused."""
    read_tokens: tuple[str, ...] = ()
    """Bearer tokens that may read; none means reads are public."""
    cors_origins: tuple[str, ...] = ()
    """Origins browsers may call the service from; none means no CORS headers."""
    allowed_services: tuple[str, ...] = ()
    """IRI prefixes that SERVICE (and LOAD) may reach; none means federation is refused."""
    max_body: int = 16 * MIB
    """Largest request body accepted, in bytes."""
    row_limit: int = 100_000
    """Most solutions or triples one query result may have."""
    query_timeout: float = 30.0
    """Seconds a query may run before it is stopped."""
    workers: int = 2
    """Query worker processes for an on-disk store."""
    executor: str = "local"
    """Where runs started through the API execute: `local` (kernels on this machine) or `dask://HOST:PORT`."""
    run_jobs: int = 2
    """Runs executing at once on the local executor."""

    def __post_init__(self) -> None:
        for name in ("max_body", "row_limit", "query_timeout", "workers", "run_jobs"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        LazyExecutor(self.executor, self.run_jobs)  # opens nothing: refuses an unknown executor now

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **options: object) -> Settings:
        """Settings from `KG_*` variables, then the `options` given (None or empty: not given).

        ValueError names the variable or option that does not parse.
        """
        env = os.environ if environ is None else environ
        settings = cls(
            store=env.get("KG_STORE") or cls.store,
            write_tokens=_tokens(env.get("KG_WRITE_TOKENS", "")),
            read_tokens=_tokens(env.get("KG_READ_TOKENS", "")),
            max_body=_parsed(env, "KG_MAX_BODY", parse_size, cls.max_body),
            row_limit=_parsed(env, "KG_ROW_LIMIT", int, cls.row_limit),
            query_timeout=_parsed(env, "KG_QUERY_TIMEOUT", float, cls.query_timeout),
            executor=env.get("KG_EXECUTOR") or cls.executor,
            run_jobs=_parsed(env, "KG_RUN_JOBS", int, cls.run_jobs),
        )
        return replace(settings, **{k: v for k, v in options.items() if v is not None and v != ()})


def parse_size(text: str) -> int:
    """Bytes from `16777216`, `16M`, `16MiB` or `512k`; ValueError otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (write bytes, or a number with K, M or G)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(token.strip() for token in text.split(",") if token.strip())


def _parsed(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    if not env.get(name):
        return default
    try:
        return parse(env[name])
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from error
