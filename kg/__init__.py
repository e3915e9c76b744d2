"""oda-kg: a knowledge graph of astronomical analysis workflows."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("oda-kg")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
