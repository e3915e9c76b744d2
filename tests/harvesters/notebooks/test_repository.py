"""Which notebooks a path stands for, and the repository they belong to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvesters.notebooks.repository import UsageError, discover, public_url

from .conftest import init_repo, notebook


def put(path, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook(**kwargs)))
    return path


def names(discovery):
    return sorted(t.notebook_path for t in discovery.targets)


def test_plain_directory_finds_notebooks_recursively_and_skips_checkpoints(tmp_path):
    put(tmp_path / "a.ipynb", parameters="x = 1\n")
    put(tmp_path / "sub" / "b.ipynb", parameters="x = 1\n")
    put(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb", parameters="x = 1\n")
    put(tmp_path / "a_output.ipynb", parameters="x = 1\n")
    found = discover([tmp_path])
    assert names(found) == ["a.ipynb", "sub/b.ipynb"]
    assert found.targets[0].repository.iri == tmp_path.resolve().as_uri()
    assert found.targets[0].repository.commit is None


def test_git_repository_records_remote_without_credentials_and_commit(tmp_path):
    put(tmp_path / "nb" / "a.ipynb", parameters="x = 1\n")
    (tmp_path / "mmoda_help_page.md").write_text("# Help\nUse it well.")
    (tmp_path / "acknowledgements.md").write_text("Thanks to the archive.")
    commit = init_repo(tmp_path, "https://user:s3cret@github.com/oda/analysis.git")
    (target,) = discover([tmp_path / "nb"]).targets
    repository = target.repository
    assert target.notebook_path == "nb/a.ipynb"
    assert repository.iri == "https://github.com/oda/analysis"
    assert repository.commit == commit
    assert (
        repository.help_text.startswith("# Help") and repository.acknowledgements == "Thanks to the archive."
    )


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:oda/analysis.git", "https://github.com/oda/analysis"),
        ("https://token@gitlab.com/a/b.git", "https://gitlab.com/a/b"),
        ("https://gitlab.example.org:8443/a/b", "https://gitlab.example.org:8443/a/b"),
        ("ssh://git@github.com:22/oda/analysis.git", "https://github.com/oda/analysis"),
        ("/srv/git/analysis.git", "file:///srv/git/analysis.git"),
        ("file:///srv/git/analysis", "file:///srv/git/analysis"),
        ("../upstream", "file:///srv/upstream"),
    ],
)
def test_public_url(remote, url):
    assert public_url(remote, Path("/srv/work")) == url


def test_mmoda_yaml_selects_notebooks_by_path_and_pattern(tmp_path):
    (tmp_path / "mmoda.yaml").write_text(
        "notebook_path: notebooks\nfilename_pattern: '^(?!draft).*\\.ipynb$'\n"
    )
    for name in ("service.ipynb", "draft_idea.ipynb", "test_service.ipynb"):
        put(tmp_path / "notebooks" / name, parameters="x = 1\n")
    put(tmp_path / "elsewhere.ipynb", parameters="x = 1\n")
    put(tmp_path / "notebooks" / "deep" / "nested.ipynb", parameters="x = 1\n")
    assert names(discover([tmp_path])) == ["notebooks/service.ipynb", "notebooks/test_service.ipynb"]


def test_nested_mmoda_repository_is_its_own_repository(tmp_path):
    put(tmp_path / "top.ipynb", parameters="x = 1\n")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "mmoda.yaml").write_text("notebook_path: .\n")
    put(tmp_path / "repo" / "inner.ipynb", parameters="x = 1\n")
    found = discover([tmp_path])
    roots = {t.notebook_path: t.repository.root for t in found.targets}
    assert roots == {"top.ipynb": str(tmp_path.resolve()), "inner.ipynb": str((tmp_path / "repo").resolve())}


def test_broken_mmoda_yaml_is_reported_and_claims_no_scope(tmp_path):
    (tmp_path / "mmoda.yaml").write_text("notebook_path: [unclosed\n")
    put(tmp_path / "a.ipynb", parameters="x = 1\n")
    found = discover([tmp_path])
    assert found.targets == [] and found.scopes == []
    (diagnostic,) = found.diagnostics
    assert diagnostic.code == "bad-config" and diagnostic.file.endswith("mmoda.yaml")


def test_missing_path_and_non_notebook_are_usage_errors(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(UsageError, match="no such file"):
        discover([tmp_path / "missing"])
    with pytest.raises(UsageError, match="not a notebook"):
        discover([tmp_path / "x.txt"])


def test_same_notebook_same_identity_whether_named_or_walked(tmp_path):
    path = put(tmp_path / "sub" / "a.ipynb", parameters="x = 1\n")
    init_repo(tmp_path)
    walked = discover([tmp_path]).targets[0]
    named = discover([path]).targets[0]
    assert (walked.repository.iri, walked.notebook_path) == (named.repository.iri, named.notebook_path)
    assert named.explicit and not walked.explicit
