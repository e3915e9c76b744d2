"""Content negotiation: which of the formats in `kg.formats` a request's Accept header prefers.

Follows RFC 9110: q-values, `type/*` and `*/*` wildcards, the most specific range deciding
an offer's quality. Ties go to the more specific match, then to the order of the offers, so
the first offer is the default (also when there is no Accept header at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kg.formats import RDF_FORMATS, RESULT_FORMATS, Format

#: SELECT and ASK results, SPARQL JSON first (the default).
SOLUTION_FORMATS: tuple[Format, ...] = tuple(RESULT_FORMATS.values())
#: CONSTRUCT and DESCRIBE results and graphs, Turtle first (the default).
GRAPH_FORMATS: tuple[Format, ...] = tuple(RDF_FORMATS.values())
#: Whole datasets (the Graph Store without a graph), N-Quads first.
DATASET_FORMATS: tuple[Format, ...] = tuple(
    sorted((f for f in GRAPH_FORMATS if f.has_graphs), key=lambda f: f.name != "nquads")
)


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """3 for an exact match, 2 for `type/*`, 1 for `*/*`, 0 when the range does not match."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1
        if self.type != kind:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed ranges are left out."""
    ranges = []
    for part in header.split(","):
        media, *params = part.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(kind, sub, q))
    return ranges


def negotiate(accept: str | None, offers: Sequence[Format]) -> Format | None:
    """The offer the client prefers, None when it accepts none of them (HTTP 406)."""
    ranges = parse_accept(accept or "")
    if not ranges:
        return offers[0]
    best, best_key = None, (0.0, 0, 0)
    for index, offer in enumerate(offers):
        q, specificity = quality(offer, ranges)
        key = (q, specificity, -index)
        if q > 0 and (best is None or key > best_key):
            best, best_key = offer, key
    return best


def quality(offer: Format, ranges: Sequence[MediaRange]) -> tuple[float, int]:
    """(q, specificity) of an offer: its media type judged by its most specific range, its
    aliases (`application/json`) only by ranges naming them, so `text/*` never means `text/xml`."""
    best = judge(offer.media_type, ranges)
    for alias in offer.aliases:
        exact = [r.q for r in ranges if r.specificity(alias) == 3]
        if exact:
            best = max(best, (max(exact), 3))
    return best


def judge(media_type: str, ranges: Sequence[MediaRange]) -> tuple[float, int]:
    """(q, specificity) of the most specific range matching `media_type`; (0, 0) when none does."""
    matching = [(r.specificity(media_type), r.q) for r in ranges if r.specificity(media_type)]
    if not matching:
        return 0.0, 0
    specificity, q = max(matching)
    return q, specificity


def prefers_json(accept: str | None) -> bool:
    """Whether an error should be JSON rather than plain text: the client ranks some JSON type
    (`application/json`, `application/sparql-results+json`, ...) above text/plain."""
    ranges = parse_accept(accept or "")
    json_types = [
        "application/json",
        *(f"{r.type}/{r.subtype}" for r in ranges if r.subtype.endswith("+json")),
    ]
    return max(judge(media_type, ranges) for media_type in json_types) > judge("text/plain", ranges)


def available(offers: Sequence[Format]) -> str:
    """The media types of `offers`, for a 406 message."""
    return ", ".join(f.media_type for f in offers)
