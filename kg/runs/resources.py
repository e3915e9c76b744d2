"""Binding the resources a notebook declares (S3, Dask, ...) to this platform's credentials.

A notebook names a resource and the environment variable it reads (`oda:usesRequiredResource
oda:MyS3`, `oda:MyS3 a oda:S3; oda:resourceBindingEnvVarName "MY_S3_CREDENTIALS"`). The
configuration maps resource kinds to credentials; the run's kernel alone gets them, as JSON in
that variable. They never enter the graph, the run record or any message: only resource names
and variable names are ever shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from kg.terms import curie


class MissingResource(ValueError):
    """A required resource has no credentials in the configuration."""


def bind_resources(
    declared: Sequence[Mapping[str, object]], configured: Mapping[str, object]
) -> dict[str, str]:
    """The kernel environment for the `declared` resources (as `kg.workflows.show_workflow` lists
    them): each bound variable set to its credentials' JSON. A missing optional resource is left
    unset; a missing required one raises MissingResource naming every such resource."""
    env: dict[str, str] = {}
    missing = []
    for resource in declared:
        variable = resource.get("env_var")
        if not isinstance(variable, str):
            continue  # a resource the notebook does not read from the environment
        credentials = _credentials(resource, configured)
        if credentials is not None:
            env[variable] = credentials if isinstance(credentials, str) else json.dumps(credentials)
        elif resource.get("required"):
            kinds = " or ".join(_names(resource))
            missing.append(f"{curie(str(resource['iri']))} (variable {variable}; configure it as {kinds})")
    if missing:
        raise MissingResource(
            "required resources are not configured: "
            + "; ".join(missing)
            + ". Add their credentials to the JSON file named by KG_RESOURCES."
        )
    return env


def _credentials(resource: Mapping[str, object], configured: Mapping[str, object]) -> object | None:
    for name in _names(resource):
        if name in configured:
            return configured[name]
    return None


def _names(resource: Mapping[str, object]) -> list[str]:
    """The keys a resource may be configured under, most specific first: its own IRI or CURIE,
    then each of its kinds (`oda:S3`) and their local names (`S3`)."""
    iri = str(resource["iri"])
    kinds = [str(kind) for kind in resource.get("types") or []]  # type: ignore[union-attr]
    return [iri, curie(iri), *kinds, *(kind.partition(":")[2] for kind in kinds)]
