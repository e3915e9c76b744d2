"""Binding declared resources to configured credentials, which only the kernel ever sees."""

from __future__ import annotations

import json

import pytest

from kg.runs.resources import MissingResource, bind_resources

S3 = {
    "iri": "http://odahub.io/ontology#MyS3",
    "types": ["oda:S3"],
    "required": True,
    "env_var": "MY_S3_CREDENTIALS",
}
DASK = {"iri": "http://example.org/cluster", "types": ["oda:Dask"], "required": False, "env_var": "DASK_URL"}


@pytest.mark.parametrize("key", ["http://odahub.io/ontology#MyS3", "oda:MyS3", "oda:S3", "S3"])
def test_a_resource_is_bound_by_its_own_name_or_its_kind(key: str) -> None:
    assert bind_resources([S3], {key: {"secret_key": "k"}}) == {"MY_S3_CREDENTIALS": '{"secret_key": "k"}'}


def test_the_most_specific_configuration_wins_and_strings_pass_as_they_are() -> None:
    configured = {"S3": {"bucket": "general"}, "oda:MyS3": {"bucket": "mine"}, "oda:Dask": "tcp://sched:8786"}
    env = bind_resources([S3, DASK], configured)
    assert json.loads(env["MY_S3_CREDENTIALS"]) == {"bucket": "mine"}
    assert env["DASK_URL"] == "tcp://sched:8786"


def test_a_missing_optional_resource_is_left_unset() -> None:
    assert bind_resources([DASK], {}) == {}


def test_a_missing_required_resource_names_it_and_its_variable_and_no_credentials() -> None:
    with pytest.raises(MissingResource) as refused:
        bind_resources([S3, DASK], {"oda:Dask": "tcp://secret-scheduler:8786"})
    message = str(refused.value)
    assert "oda:MyS3" in message and "MY_S3_CREDENTIALS" in message and "KG_RESOURCES" in message
    assert "secret-scheduler" not in message
