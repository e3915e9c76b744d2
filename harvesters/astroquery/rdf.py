"""Astroquery calls as quads in their run's named graph (ARCHITECTURE §3 "Astroquery call").

Every node has a deterministic IRI: a call's comes from its run and its place in the run, so
writing the run again lands on the same nodes; a module's, an object's and a region's come from
what they are, so calls of different runs to SIMBAD, about "Mrk 421" or the same cone, meet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Quad

from kg.iris import BASE, object_iri, short_hash
from kg.namespaces import KG, ODA, PROV, RDF, SCHEMA, XSD
from kg.runs.model import AstroqueryCall


def call_iri(run: NamedNode, index: int) -> NamedNode:
    """The `index`-th (0-based) call the run made, in the order the tracer recorded them."""
    return NamedNode(f"{run.value}/call/{index}")


def module_iri(name: str) -> NamedNode:
    """An astroquery service class, by its class name (`SimbadClass`)."""
    return NamedNode(f"{BASE}astroquery/{quote(name, safe='')}")


def region_iri(text: str) -> NamedNode:
    """A sky region, by the tracer's text for it (`ICRS 10.684708 41.26875; radius=0.1 deg`)."""
    return NamedNode(f"{BASE}region/{short_hash(text)}")


def call_quads(run: NamedNode, calls: Sequence[AstroqueryCall], graph: NamedNode) -> list[Quad]:
    """`run kg:madeCall` each call, with what the call asked and how it went, and the modules,
    objects and regions the calls name, each described once (an object by its first spelling)."""
    quads = []
    named: dict[NamedNode, tuple[NamedNode, str]] = {}
    for index, call in enumerate(calls):
        node = call_iri(run, index)
        quads.append(Quad(run, KG.madeCall, node, graph))
        quads += _call_quads(node, call, graph)
        named.setdefault(module_iri(call.module), (ODA.AstroqueryModule, call.module))
        for name in call.objects:
            named.setdefault(object_iri(name), (ODA.AstrophysicalObject, name))
        if call.region is not None:
            named.setdefault(region_iri(call.region), (ODA.AstrophysicalRegion, call.region))
    for node, (cls, name) in named.items():
        quads += [Quad(node, RDF.type, cls, graph), Quad(node, SCHEMA.name, Literal(name), graph)]
    return quads


def _call_quads(node: NamedNode, call: AstroqueryCall, g: NamedNode) -> list[Quad]:
    ended_at = call.started_at + timedelta(seconds=call.duration_s)
    values = (
        (RDF.type, KG.AstroqueryCall),
        (ODA.isUsing, module_iri(call.module)),
        (KG.method, Literal(call.method)),
        (KG.arguments, Literal(call.arguments)),
        (PROV.startedAtTime, Literal(call.started_at.isoformat(), datatype=XSD.dateTime)),
        (PROV.endedAtTime, Literal(ended_at.isoformat(), datatype=XSD.dateTime)),
        (KG.duration, Literal(float(call.duration_s))),
        (KG.outcome, Literal(call.outcome)),
        (SCHEMA.error, call.error is not None and Literal(call.error)),
        (KG.cacheActive, call.cache is not None and Literal(call.cache)),
        (ODA.isRequestingAstroRegion, call.region is not None and region_iri(call.region)),
    )
    quads = [Quad(node, prop, value, g) for prop, value in values if value is not False]
    quads += [Quad(node, ODA.isRequestingAstroObject, object_iri(name), g) for name in call.objects]
    return quads
