"""The annotation mini-language of MMODA notebooks, as written in comments.

`x = 1.0  # oda:Float; oda:unit unit:GeV` — a list of groups separated by `;`, each group
either classes (`oda:Float, oda:optional`, or several side by side: `oda:Float oda:GeV`)
or a property followed by its values (`oda:allowed_value 'b','g','r'`). A comment whose
first word is not an ODA term is a human comment, kept verbatim and never an error.

The parser is lenient where MMODA authors are inconsistent (missing `;`, a wrong ODA
namespace) and reports every such repair as a warning.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Protocol

from kg.namespaces import ODA, PREFIXES, UNIT
from kg.terms import curie

from .diagnostics import Problem, warning

#: Everything a value in an annotation can be once parsed.
Value = str | int | float | bool | None


@dataclass(frozen=True)
class IRI:
    """A term written in an annotation, expanded to its full IRI."""

    value: str


@dataclass
class Annotation:
    text: str
    classes: list[str] = field(default_factory=list)
    properties: list[tuple[str, list[IRI | Value]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    semantic: bool = False
    """False for a human comment: nothing but `text` is meaningful then."""

    def values(self, prop: str) -> list[IRI | Value]:
        return self._by_property.get(prop, [])

    @cached_property
    def _by_property(self) -> dict[str, list[IRI | Value]]:
        """Every value of each property, indexed once: a parameter asks for a dozen properties."""
        index: dict[str, list[IRI | Value]] = {}
        for prop, values in self.properties:
            index.setdefault(prop, []).extend(values)
        return index


class Vocabulary(Protocol):
    """What the parser needs to know of the ontology."""

    def is_class(self, iri: str) -> bool: ...

    def is_property(self, iri: str) -> bool: ...

    def suggest(self, iri: str) -> str | None: ...


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


_TOKENS = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<string>\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<iri><[^<>\s]*>|https?://[^\s,;<>"']+)
    |(?P<number>[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![\w:]))
    |(?P<curie>[A-Za-z][\w-]*:(?:[\w-]|\.(?=[\w-]))*)
    |(?P<punct>[,;.])
    |(?P<word>[^\s,;]+)
    """,
    re.VERBOSE,
)
_KEYWORDS: dict[str, Value] = {"true": True, "True": True, "false": False, "False": False, "None": None}
_ODA_LOOKALIKE = re.compile(r"^https?://(?:www\.)?odahub\.io/ontology/?(?P<unit>unit/?)?#(?P<local>.+)$")


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup or "word"
        if kind == "ws":
            continue
        token = match.group()
        if kind == "iri" and not token.startswith("<") and token.endswith("."):
            tokens.append(Token("iri", token[:-1]))
            tokens.append(Token("punct", "."))
            continue
        tokens.append(Token(kind, token))
    return tokens


def expand(token: Token, problems: list[Problem]) -> str | None:
    """The full IRI a CURIE or IRI token names, repairing look-alikes of the ODA namespaces."""
    if token.kind == "curie":
        prefix, local = token.text.split(":", 1)
        if prefix not in PREFIXES:
            problems.append(warning("unknown-prefix", f"unknown prefix '{prefix}:' in {token.text}"))
            return None
        return PREFIXES[prefix] + local
    return repair_iri(token.text.strip("<>"), problems)


def repair_iri(iri: str, problems: list[Problem]) -> str:
    """`iri`, or the ODA term it meant when written in a look-alike namespace (with a warning)."""
    lookalike = _ODA_LOOKALIKE.match(iri)
    if not lookalike:
        return iri
    fixed = (UNIT if lookalike["unit"] else ODA).iri + lookalike["local"]
    if fixed != iri:
        problems.append(warning("wrong-namespace", f"{iri} is not in the ODA namespace; read as {fixed}"))
    return fixed


def starts_annotation(tokens: list[Token]) -> bool:
    """Whether a comment is an ODA annotation: it opens with an ODA term."""
    if not tokens:
        return False
    first = tokens[0]
    if first.kind == "curie":
        return first.text.split(":", 1)[0] in ("oda", "unit")
    return first.kind == "iri" and bool(_ODA_LOOKALIKE.match(first.text.strip("<>")))


def literal(token: Token) -> Value:
    text = token.text
    if token.kind == "string":
        quote = text[0]
        if "\\" not in text and not text.startswith(quote * 3):
            return text[1:-1]
        return ast.literal_eval(text)
    if token.kind == "number":
        try:
            return int(text)
        except ValueError:
            return float(text)
    return _KEYWORDS[text]


def is_value(token: Token) -> bool:
    return token.kind in ("string", "number") or (token.kind == "word" and token.text in _KEYWORDS)


def parse_annotation(text: str, vocabulary: Vocabulary) -> Annotation:
    """Parse one comment's text (without the leading `#`). The result is shared between equal
    comments (notebooks repeat the same annotations), so callers must not change it."""
    return _parse_cached(text, vocabulary)


@lru_cache(maxsize=8192)
def _parse_cached(text: str, vocabulary: Vocabulary) -> Annotation:
    annotation = Annotation(text=text.strip())
    tokens = tokenize(text)
    if not starts_annotation(tokens):
        return annotation
    annotation.semantic = True
    problems = annotation.problems
    for group in _groups(tokens):
        _parse_group(group, annotation, vocabulary, problems)
    checks = [(c, vocabulary.is_class, "class") for c in annotation.classes]
    checks += [(p, vocabulary.is_property, "property") for p, _ in annotation.properties]
    problems += filter(None, (unknown_term(iri, known, kind, vocabulary) for iri, known, kind in checks))
    return annotation


def _groups(tokens: list[Token]) -> list[list[Token]]:
    groups: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "punct" and token.text in ";.":
            groups.append([])
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


def _parse_group(
    group: list[Token], annotation: Annotation, vocabulary: Vocabulary, problems: list[Problem]
) -> None:
    """Classes until a property (known, or a term followed by a value); then its values."""
    index = 0
    while index < len(group):
        token = group[index]
        if token.kind == "punct":
            index += 1
            continue
        if token.kind not in ("curie", "iri"):
            problems.append(warning("unexpected-text", f"unexpected '{token.text}' in annotation"))
            index += 1
            continue
        iri = expand(token, problems)
        following = group[index + 1] if index + 1 < len(group) else None
        followed_by_value = following is not None and is_value(following)
        if not (followed_by_value or (iri is not None and vocabulary.is_property(iri))):
            if iri is not None:
                annotation.classes.append(iri)
            index += 1
            continue
        values, index = _values(group, index + 1, vocabulary, problems)
        if iri is None:
            continue  # an unknown prefix was reported; its values go with it
        if not values:
            problems.append(warning("missing-value", f"{token.text} needs a value"))
        annotation.properties.append((iri, values))


def _values(
    group: list[Token], index: int, vocabulary: Vocabulary, problems: list[Problem]
) -> tuple[list[IRI | Value], int]:
    """Comma-separated values from `index`, stopping at a term that is a known property."""
    values: list[IRI | Value] = []
    while index < len(group):
        token = group[index]
        if token.kind == "punct":
            index += 1
            continue
        if token.kind in ("curie", "iri"):
            iri = expand(token, problems)
            if iri is not None and vocabulary.is_property(iri):
                break
            if iri is not None:
                values.append(IRI(iri))
        elif is_value(token):
            values.append(literal(token))
        else:
            problems.append(warning("unexpected-text", f"unexpected '{token.text}' in annotation"))
        index += 1
    return values, index


def unknown_term(iri: str, known: Callable[[str], bool], kind: str, vocabulary: Vocabulary) -> Problem | None:
    """A warning, with a "did you mean", for an ODA-namespace `kind` term the ontology lacks."""
    if not (ODA.contains(iri) or UNIT.contains(iri)) or known(iri):
        return None
    message = f"unknown ODA {kind} {curie(iri)}"
    suggestion = vocabulary.suggest(iri)
    if suggestion:
        message += f"; did you mean {curie(suggestion)}?"
    return warning(f"unknown-{kind}", message)
