"""The astroquery-call harvester: the calls `kg.runs.tracer` recorded in a run's kernel, to RDF."""

from .rdf import call_iri, call_quads, module_iri, region_iri

__all__ = ["call_iri", "call_quads", "module_iri", "region_iri"]
