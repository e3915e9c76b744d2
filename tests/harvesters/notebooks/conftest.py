"""Building notebooks on disk for harvester tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


def notebook(
    parameters: str | None = None,
    outputs: str | None = None,
    injected: str | None = None,
    code: str = "result = 1\n",
    metadata: dict | None = None,
) -> dict:
    """An nbformat-4 notebook: a parameters cell, some code, an outputs cell."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A test notebook"}]

    def code_cell(source: str, *tags: str) -> dict:
        return {
            "cell_type": "code",
            "metadata": {"tags": list(tags)},
            "source": source.splitlines(keepends=True),
            "outputs": [],
            "execution_count": None,
        }

    if parameters is not None:
        cells.append(code_cell(parameters, "parameters"))
    if injected is not None:
        cells.append(code_cell(injected, "injected-parameters"))
    cells.append(code_cell(code))
    if outputs is not None:
        cells.append(code_cell(outputs, "outputs"))
    return {
        "cells": cells,
        "metadata": metadata
        or {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def write_notebook(tmp_path: Path):
    """write_notebook("a.ipynb", parameters=..., outputs=...) -> the notebook's path."""

    def write(name: str, **kwargs) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(notebook(**kwargs)))
        return path

    return write


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def init_repo(path: Path, remote: str | None = None) -> str:
    """Make `path` a git work tree with one commit of everything in it; its commit id."""
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "kg@example.org")
    git(path, "config", "user.name", "kg")
    if remote:
        git(path, "remote", "add", "origin", remote)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "notebooks")
    return git(path, "rev-parse", "HEAD")
