"""The quad store, embedded or remote, chosen by where it lives.

`open_store()` is the one place that turns a location into a backend, so the CLI, the API
and the tests accept the same spellings: a directory, `memory:` or an endpoint URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from kg.store.base import QuerySyntaxError, Store, StoreError
from kg.store.embedded import EmbeddedStore

if TYPE_CHECKING:
    from kg.store.remote import RemoteStore

__all__ = ["EmbeddedStore", "QuerySyntaxError", "RemoteStore", "Store", "StoreError", "open_store"]

#: Where the store lives when neither the caller nor $KG_STORE says, relative to the working directory.
DEFAULT_LOCATION = Path(".kg") / "store"


def open_store(location: str | None = None) -> Store:
    """Open the store at `location`, else `$KG_STORE`, else `.kg/store` in the working directory.

    `memory:` is an empty in-memory store; `http://` and `https://` URLs are SPARQL endpoints
    (see `kg.store.remote.endpoint_urls` for the URLs derived from one); anything else is a
    directory, created if missing.
    """
    location = location or os.environ.get("KG_STORE") or str(DEFAULT_LOCATION)
    if location.startswith(("http://", "https://")):
        from kg.store.remote import RemoteStore

        return RemoteStore(location)
    return EmbeddedStore(location)


def __getattr__(name: str) -> object:
    """`RemoteStore` is imported on first use: it brings httpx, which every CLI start would pay."""
    if name == "RemoteStore":
        from kg.store.remote import RemoteStore

        return RemoteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
