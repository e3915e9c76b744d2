"""Where the shipped data files (ontology, named queries) are found.

In a source checkout or editable install they sit at the repository root; a wheel carries
them inside the package under `kg/data/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory of shipped data `name` (`ontology` or `queries`)."""
    packaged = _PACKAGE / "data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


def ontology_dir() -> Path:
    return data_dir("ontology")


def queries_dir() -> Path:
    return data_dir("queries")
