"""oda-kg: a knowledge graph of astronomical analysis workflows."""

#: The one place the version is written; pyproject.toml reads it (hatch dynamic version).
__version__ = "0.1.0"
