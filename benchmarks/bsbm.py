"""Berlin SPARQL Benchmark-shaped data: products, a product-type hierarchy, features, producers,
vendors, offers, reviewers and reviews, written as N-Triples (deterministic for a seed).

The file is a sequence of product blocks (a product, its offers and reviews, and every producer,
feature, vendor, reviewer or rating site the block is the first to mention) after a header holding
the type hierarchy. Any prefix that ends at a block boundary is therefore a closed, consistent
dataset: the "slice" is such a prefix, written alongside the full file in the same pass.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

SEED = 20261122
BSBM = "http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/vocabulary/"
INST = "http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/instances/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FOAF = "http://xmlns.com/foaf/0.1/"
DC = "http://purl.org/dc/elements/1.1/"
REV = "http://purl.org/stuff/rev#"
XSD = "http://www.w3.org/2001/XMLSchema#"
COUNTRY_CODES = ["US", "GB", "DE", "FR", "ES", "JP", "CN", "RU", "AT", "KR"]
COUNTRIES = [f"http://downlode.org/rdf/iso-3166/countries#{c}" for c in COUNTRY_CODES]
COUNTRY_WEIGHTS = [30, 15, 15, 10, 8, 7, 6, 4, 3, 2]
"""Vendors are mostly in a few countries."""
LANGUAGES = ["en", "en", "de", "fr", "es", "ja"]
WORDS = [
    a + b
    for a in ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "ba", "co"]
    for b in ["ger", "lan", "tis", "mor", "bex", "dul", "pan"]
]
BRANCHING = (6, 6, 5)
"""Children per product type at each level under the root: 6 top-level types, 36, then 180 leaves."""
FEATURES_PER_TYPE = (20, 15, 10)
"""Features owned by a type at each level; a product draws its features from its types' sets."""
CURRENT_DATE = "2008-06-20T00:00:00"
"""BSBM's reference date: offers valid after it are current."""
OFFERS_PER_VENDOR = 500
REVIEWS_PER_REVIEWER = 20
REVIEWERS_PER_SITE = 50


@dataclass
class Product:
    """What the query mix draws its parameters from."""

    iri: str
    types: tuple[str, ...]
    """Leaf type first, then its ancestors below the root."""
    features: list[str]
    numeric: tuple[int, ...]
    """productPropertyNumeric1..3."""
    offers: list[str] = field(default_factory=list)
    vendor_countries: list[str] = field(default_factory=list)
    """The country of each offer's vendor."""
    reviews: list[str] = field(default_factory=list)
    type_features: list[str] = field(default_factory=list)
    """Features of the product's leaf and middle types it does not have (for negation queries)."""


@dataclass
class Dataset:
    path: Path
    triples: int
    products: list[Product]
    vendors: int
    reviewers: int

    @property
    def offers(self) -> int:
        return sum(len(p.offers) for p in self.products)

    @property
    def reviews(self) -> int:
        return sum(len(p.reviews) for p in self.products)


# -- terms ------------------------------------------------------------------------------------


def iri(value: str) -> str:
    return f"<{value}>"


def typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def _date(rng: random.Random, start_year: int = 2000, days: int = 3000) -> str:
    """A dc:date (xsd:date) up to `days` days after 1 January of start_year (months of 28 days)."""
    ordinal = rng.randrange(days)
    year, day = start_year + ordinal // 336, ordinal % 336
    return typed(f"{year}-{day // 28 + 1:02d}-{day % 28 + 1:02d}", "date")


def _datetime(year: int, month: int, day: int) -> str:
    return typed(f"{year}-{month:02d}-{day:02d}T00:00:00", "dateTime")


class Generator:
    """Emits blocks of N-Triples lines; entities shared between blocks are written once, when first used."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.types: list[tuple[int, int | None, int]] = []  # (id, parent, level)
        self.type_features: dict[int, range] = {}
        self.seen_features: set[int] = set()
        self.producer = 0
        self.producer_left = 0
        self.products = 0
        self.offers = 0
        self.reviews = 0
        self.vendor_countries: list[str] = []
        self.reviewers = 0
        self.sites = 0

    # -- shared entities --------------------------------------------------------------------

    def _text(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def _common(self, subject: str, label: str, publisher: str) -> list[str]:
        return [
            f'{subject} <{RDFS}label> "{label}" .',
            f'{subject} <{RDFS}comment> "{self._text(8, 20)}" .',
            f"{subject} <{DC}publisher> {publisher} .",
            f"{subject} <{DC}date> {_date(self.rng)} .",
        ]

    def header(self) -> list[str]:
        """The product type hierarchy: a root, then BRANCHING children per level."""
        lines: list[str] = []
        level_nodes = [1]
        self.types.append((1, None, 0))
        next_id, next_feature = 2, 1
        for level, children in enumerate(BRANCHING, start=1):
            new_nodes = []
            for parent in level_nodes:
                for _ in range(children):
                    self.types.append((next_id, parent, level))
                    size = FEATURES_PER_TYPE[level - 1]
                    self.type_features[next_id] = range(next_feature, next_feature + size)
                    next_feature += size
                    new_nodes.append(next_id)
                    next_id += 1
            level_nodes = new_nodes
        institution = iri(f"{INST}StandardizationInstitution1")
        for type_id, parent, _ in self.types:
            subject = iri(f"{INST}ProductType{type_id}")
            lines.append(f"{subject} {RDF_TYPE} <{BSBM}ProductType> .")
            lines += self._common(subject, " ".join(self.rng.choices(WORDS, k=2)), institution)
            if parent is not None:
                lines.append(f"{subject} <{RDFS}subClassOf> <{INST}ProductType{parent}> .")
        return lines

    def _feature(self, number: int, lines: list[str]) -> str:
        subject = iri(f"{INST}ProductFeature{number}")
        if number not in self.seen_features:
            self.seen_features.add(number)
            lines.append(f"{subject} {RDF_TYPE} <{BSBM}ProductFeature> .")
            lines += self._common(
                subject, " ".join(self.rng.choices(WORDS, k=2)), f"<{INST}StandardizationInstitution1>"
            )
        return subject

    def _producer(self, lines: list[str]) -> str:
        """The current producer; a new one (written here) every 20-80 products, as BSBM groups them."""
        if self.producer_left == 0:
            self.producer += 1
            self.producer_left = self.rng.randint(20, 80)
            subject = self._producer_iri()
            lines.append(f"{subject} {RDF_TYPE} <{BSBM}Producer> .")
            lines += self._common(subject, f"Producer {self.producer} {self.rng.choice(WORDS)}", subject)
            lines.append(f"{subject} <{FOAF}homepage> <http://www.producer{self.producer}.com/> .")
            lines.append(f"{subject} <{BSBM}country> <{self.rng.choice(COUNTRIES)}> .")
        self.producer_left -= 1
        return self._producer_iri()

    def _producer_iri(self) -> str:
        return iri(f"{INST}dataFromProducer{self.producer}/Producer{self.producer}")

    def _vendor(self, lines: list[str]) -> tuple[str, int]:
        """A vendor from a pool that grows by one per OFFERS_PER_VENDOR offers (new ones are written)."""
        pool = 10 + self.offers // OFFERS_PER_VENDOR
        number = self.rng.randint(1, pool)
        if number > len(self.vendor_countries):
            number = len(self.vendor_countries) + 1
            country = self.rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
            self.vendor_countries.append(country)
            subject = iri(f"{INST}dataFromVendor{number}/Vendor{number}")
            lines.append(f"{subject} {RDF_TYPE} <{BSBM}Vendor> .")
            lines += self._common(subject, f"Vendor {number} {self.rng.choice(WORDS)}", subject)
            lines.append(f"{subject} <{FOAF}homepage> <http://www.vendor{number}.com/> .")
            lines.append(f"{subject} <{BSBM}country> <{country}> .")
        return iri(f"{INST}dataFromVendor{number}/Vendor{number}"), number

    def _reviewer(self, lines: list[str]) -> tuple[str, int]:
        """A reviewer from a pool growing by one per REVIEWS_PER_REVIEWER reviews; returns (IRI, site)."""
        pool = 10 + self.reviews // REVIEWS_PER_REVIEWER
        number = self.rng.randint(1, pool)
        if number > self.reviewers:
            number = self.reviewers = self.reviewers + 1
            site = 1 + (number - 1) // REVIEWERS_PER_SITE
            site_iri = iri(f"{INST}dataFromRatingSite{site}/RatingSite{site}")
            if site > self.sites:
                self.sites = site
                lines.append(f"{site_iri} {RDF_TYPE} <{BSBM}RatingSite> .")
                lines.append(f'{site_iri} <{RDFS}label> "Rating site {site}" .')
                lines.append(f"{site_iri} <{FOAF}homepage> <http://www.ratingsite{site}.com/> .")
            subject = iri(f"{INST}dataFromRatingSite{site}/Reviewer{number}")
            lines.append(f"{subject} {RDF_TYPE} <{FOAF}Person> .")
            lines.append(f'{subject} <{FOAF}name> "{self.rng.choice(WORDS).title()} {number}" .')
            lines.append(f'{subject} <{FOAF}mbox_sha1sum> "{self.rng.getrandbits(160):040x}" .')
            lines.append(f"{subject} <{BSBM}country> <{self.rng.choice(COUNTRIES)}> .")
            lines.append(f"{subject} <{DC}publisher> {site_iri} .")
            lines.append(f"{subject} <{DC}date> {_date(self.rng, 2007, 500)} .")
        site = 1 + (number - 1) // REVIEWERS_PER_SITE
        return iri(f"{INST}dataFromRatingSite{site}/Reviewer{number}"), site

    # -- product blocks ---------------------------------------------------------------------

    def _path(self) -> list[int]:
        """A random leaf type and its ancestors below the root, leaf first."""
        leaves = [t for t, _, level in self.types if level == len(BRANCHING)]
        parents = {t: p for t, p, _ in self.types}
        path = [self.rng.choice(leaves)]
        while parents[path[-1]] != 1:
            path.append(parents[path[-1]])  # type: ignore[arg-type]
        return path

    def block(self) -> tuple[list[str], Product]:
        """One product with its offers and reviews, and whatever shared entities they first mention."""
        lines: list[str] = []
        producer = self._producer(lines)
        self.products += 1
        subject = iri(f"{INST}dataFromProducer{self.producer}/Product{self.products}")
        path = self._path()
        chosen: list[int] = []
        for type_id, count in zip(path, (5, 4, 3), strict=True):
            chosen += self.rng.sample(self.type_features[type_id], count + self.rng.randint(-1, 1))
        features = [self._feature(number, lines) for number in chosen]
        lines.append(f"{subject} {RDF_TYPE} <{BSBM}Product> .")
        lines += [f"{subject} {RDF_TYPE} <{INST}ProductType{t}> ." for t in path]
        lines += self._common(subject, f"{' '.join(self.rng.choices(WORDS, k=2))} {self.products}", producer)
        lines.append(f"{subject} <{BSBM}producer> {producer} .")
        lines += [f"{subject} <{BSBM}productFeature> {f} ." for f in features]
        numeric = tuple(self.rng.randint(1, 2000) for _ in range(6))
        for number, value in enumerate(numeric, start=1):
            if number <= 3 or self.rng.random() < 0.6:
                lines.append(f"{subject} <{BSBM}productPropertyNumeric{number}> {typed(value, 'integer')} .")
        for number in range(1, 6):
            if number <= 3 or self.rng.random() < 0.6:
                lines.append(f'{subject} <{BSBM}productPropertyTextual{number}> "{self._text(3, 8)}" .')
        unused = [n for t in path[:2] for n in self.type_features[t] if n not in chosen]
        product = Product(
            subject[1:-1],
            tuple(f"{INST}ProductType{t}" for t in path),
            [f[1:-1] for f in features],
            numeric[:3],
            type_features=[f"{INST}ProductFeature{n}" for n in unused],
        )
        base_price = self.rng.uniform(5, 10000)
        for _ in range(self.rng.randint(10, 30)):
            lines += self._offer(product, base_price)
        for _ in range(self.rng.randint(4, 16)):
            lines += self._review(product)
        return lines, product

    def _offer(self, product: Product, base_price: float) -> list[str]:
        lines: list[str] = []
        vendor, number = self._vendor(lines)
        self.offers += 1
        subject = iri(f"{INST}dataFromVendor{number}/Offer{self.offers}")
        product.offers.append(subject[1:-1])
        product.vendor_countries.append(self.vendor_countries[number - 1])
        rng = self.rng
        start = (2008, rng.randint(1, 6), rng.randint(1, 28))
        end = (2008, rng.randint(4, 12), rng.randint(1, 28))
        lines += [
            f"{subject} {RDF_TYPE} <{BSBM}Offer> .",
            f"{subject} <{BSBM}product> {iri(product.iri)} .",
            f"{subject} <{BSBM}vendor> {vendor} .",
            f"{subject} <{BSBM}price> {typed(f'{base_price * rng.uniform(0.8, 1.2):.2f}', 'decimal')} .",
            f"{subject} <{BSBM}validFrom> {_datetime(*start)} .",
            f"{subject} <{BSBM}validTo> {_datetime(*end)} .",
            f"{subject} <{BSBM}deliveryDays> {typed(rng.randint(1, 7), 'integer')} .",
            f"{subject} <{BSBM}offerWebpage> <http://www.vendor{number}.com/offers/{self.offers}> .",
            f"{subject} <{DC}publisher> {vendor} .",
            f"{subject} <{DC}date> {_date(rng, 2007, 500)} .",
        ]
        return lines

    def _review(self, product: Product) -> list[str]:
        lines: list[str] = []
        reviewer, site = self._reviewer(lines)
        self.reviews += 1
        subject = iri(f"{INST}dataFromRatingSite{site}/Review{self.reviews}")
        product.reviews.append(subject[1:-1])
        rng = self.rng
        lines += [
            f"{subject} {RDF_TYPE} <{REV}Review> .",
            f"{subject} <{BSBM}reviewFor> {iri(product.iri)} .",
            f"{subject} <{REV}reviewer> {reviewer} .",
            f"{subject} <{BSBM}reviewDate> {_datetime(2008, rng.randint(1, 6), rng.randint(1, 28))} .",
            f'{subject} <{DC}title> "{self._text(3, 7)}" .',
            f'{subject} <{REV}text> "{self._text(15, 40)}"@{rng.choice(LANGUAGES)} .',
        ]
        for number in range(1, 5):
            if rng.random() < 0.7:
                lines.append(f"{subject} <{BSBM}rating{number}> {typed(rng.randint(1, 10), 'integer')} .")
        lines.append(f"{subject} <{DC}publisher> <{INST}dataFromRatingSite{site}/RatingSite{site}> .")
        lines.append(f"{subject} <{DC}date> {_date(rng, 2008, 150)} .")
        return lines


def _write(out: TextIO, lines: list[str]) -> None:
    out.write("\n".join(lines))
    out.write("\n")


def generate(
    path: Path, slice_path: Path, triples: int, slice_triples: int, seed: int = SEED
) -> tuple[Dataset, Dataset]:
    """Write about `triples` triples to `path`, and to `slice_path` the longest block-aligned prefix
    of at most `slice_triples`; returns both datasets' catalogues."""
    generator = Generator(seed)
    products: list[Product] = []
    head = generator.header()
    total = slice_total = len(head)
    sliced: Dataset | None = None
    with path.open("w", encoding="utf-8") as full, slice_path.open("w", encoding="utf-8") as part:
        _write(full, head)
        _write(part, head)
        while total < triples:
            counts = len(generator.vendor_countries), generator.reviewers
            lines, product = generator.block()
            if sliced is None and slice_total + len(lines) > slice_triples:
                sliced = Dataset(slice_path, slice_total, products[:], *counts)
            if sliced is None:
                _write(part, lines)
                slice_total += len(lines)
            _write(full, lines)
            total += len(lines)
            products.append(product)
    counts = len(generator.vendor_countries), generator.reviewers
    dataset = Dataset(path, total, products, *counts)
    return dataset, sliced or Dataset(slice_path, slice_total, products[:], *counts)
