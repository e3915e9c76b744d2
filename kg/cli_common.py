"""What every `kg` command shares: the consoles, the store context, and clean failures."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from rich.console import Console

from kg.store import Store, StoreError, open_store

console = Console()
errors = Console(stderr=True)


class Context:
    """Holds the store location; the store is opened only by commands that need it."""

    def __init__(self, location: str | None) -> None:
        self.location = location

    @contextmanager
    def store(self) -> Iterator[Store]:
        with open_store(self.location) as store:
            yield store


def fails_cleanly(command: Callable) -> Callable:
    """Store and query errors end the command with their message and exit 1, not a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (StoreError, OSError) as exc:
            errors.print(f"[red]error:[/red] {exc}")
            sys.exit(1)

    return wrapper
