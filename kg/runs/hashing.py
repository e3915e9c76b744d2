"""The hashes a run records: one canonical byte form per JSON value, and `sha256:<hex>`."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """One byte string per JSON value (sorted keys, no spaces, UTF-8), so equal values hash equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hash(data: bytes) -> str:
    """`sha256:<hex>`, the form every hash in the graph takes."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"
