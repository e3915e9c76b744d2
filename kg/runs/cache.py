"""The run cache: a run already completed on the same notebook code, values and environment is the
answer to asking for it again.

Cache entries are the runs themselves (their `kg:cacheKey`), so there is nothing to keep in step:
a hit returns the existing run and writes nothing. Failed runs are never hits, nor test runs
(`kg test-notebooks` runs beside links to the notebook's neighbours, which the key does not
cover), and of several completed runs with one key the newest wins, so re-running without the
cache refreshes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from pyoxigraph import Literal

from kg.namespaces import SPARQL_PROLOGUE
from kg.runs.values import canonical_values
from kg.store.base import Store

_FIND = (
    SPARQL_PROLOGUE
    + """SELECT ?id WHERE {
  ?run a kg:Run ; kg:cacheKey ?key ; schema:actionStatus schema:CompletedActionStatus ;
       schema:identifier ?id ; dcterms:created ?created .
  FILTER NOT EXISTS { ?run kg:isTestRun true }
}
ORDER BY DESC(?created) DESC(?id)
LIMIT 1"""
)


def cache_key(content_hash: str, values: Mapping[str, object], environment_fingerprint: str) -> str:
    """`sha256:<hex>` of the canonical JSON of what decides a run's outputs.

    `values` should be `kg.runs.values.resolve_values` output (cast, defaults filled in), so
    the key does not depend on how a user typed them.
    """
    text = (
        f'{{"content_hash":{json.dumps(content_hash)},'
        f'"environment":{json.dumps(environment_fingerprint)},'
        f'"values":{canonical_values(values)}}}'
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def find_cached(store: Store, key: str) -> str | None:
    """The id of the newest completed run with cache key `key`, if any."""
    rows = store.select(_FIND, {"key": Literal(key)})
    return rows[0]["id"].value if rows else None
