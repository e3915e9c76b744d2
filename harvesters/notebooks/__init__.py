"""The notebook-annotation harvester: MMODA notebooks to RDF workflow descriptions, statically."""

from .diagnostics import Diagnostic, Severity
from .harvest import HarvestReport, harvest
from .notebook import NotebookResult, describe_notebook
from .repository import UsageError, discover

__all__ = [
    "Diagnostic",
    "HarvestReport",
    "NotebookResult",
    "Severity",
    "UsageError",
    "describe_notebook",
    "discover",
    "harvest",
]
