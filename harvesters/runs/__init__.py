"""The run-provenance harvester: a `kg.runs.model.Run` to RDF in the run's own named graph."""

from .rdf import STATUS_TERMS, run_quads

__all__ = ["STATUS_TERMS", "run_quads"]
