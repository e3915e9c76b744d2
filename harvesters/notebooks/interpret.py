"""From an assignment and its annotation to a described parameter or output.

This is where the ontology gives annotations their meaning: value types through the
class hierarchy, implied units and limits, common parameter names; and where
contradictions between an annotation and its default are found.
"""

from __future__ import annotations

import math

from kg.namespaces import ODA, RDF, XSD
from kg.ontology import Ontology
from kg.terms import curie

from .annotations import IRI, Annotation, Value, parse_annotation
from .diagnostics import Problem, error, warning
from .model import Output, Parameter
from .source import Assignment, NotLiteral

JSON = RDF.JSON.value
FLOAT, INTEGER, STRING, BOOLEAN = (XSD[t].value for t in ("float", "integer", "string", "boolean"))
#: The base class a default's Python type implies when no annotation gives a value type.
_CLASS_OF_DATATYPE = {
    FLOAT: ODA.Float.value,
    INTEGER: ODA.Integer.value,
    STRING: ODA.String.value,
    BOOLEAN: ODA.Boolean.value,
}
_PYTHON_TYPES = {"float": FLOAT, "int": INTEGER, "str": STRING, "bool": BOOLEAN}
COMMON_PARAMETERS = (
    (ODA.PointOfInterestRA.value, "RA"),
    (ODA.PointOfInterestDEC.value, "DEC"),
    (ODA.StartTime.value, "T1"),
    (ODA.EndTime.value, "T2"),
    (ODA.AstrophysicalObject.value, "src_name"),
)
#: Properties read into the model's own fields; any other property goes to `extra`.
_HANDLED = {
    ODA[p].value
    for p in ("unit", "lower_limit", "upper_limit", "limits", "allowed_value", "label", "description")
} | {ODA.group.value, ODA.format.value}


def merged_annotation(comments: list[tuple[int, str]], ontology: Ontology) -> tuple[Annotation, int]:
    """All comments of one statement read as one annotation; the line of the first ODA one."""
    if len(comments) == 1:
        number, text = comments[0]
        single = parse_annotation(text, ontology)
        if not single.problems:  # the usual case: the shared parse serves as it is
            return single, number if single.semantic else 0
    merged = Annotation(text="\n".join(text for _, text in comments))
    line = 0
    for number, text in comments:
        part = parse_annotation(text, ontology)
        if not part.semantic:
            continue
        line = line or number
        merged.semantic = True
        merged.classes += part.classes
        merged.properties += part.properties
        merged.problems += [Problem(p.severity, p.code, p.message, number) for p in part.problems]
    return merged, line


def describe_parameter(
    assignment: Assignment, position: int, ontology: Ontology
) -> tuple[Parameter, list[Problem]]:
    annotation, line = merged_annotation(assignment.comments, ontology)
    line = line or assignment.line
    problems = list(annotation.problems)
    p = Parameter(
        name=assignment.name,
        position=position,
        classes=list(dict.fromkeys(annotation.classes)),
        annotation=annotation.text or None,
        python_type=assignment.python_type,
    )
    _read_properties(p, annotation, ontology, problems, line)
    _settle_type(p, assignment.value, ontology, problems, line)
    _settle_unit(p, annotation, ontology, problems, line)
    _settle_limits(p, annotation, ontology, problems, line)
    _check_default(p, problems, line)
    p.optional = p.optional or p.default is None or ODA.optional.value in p.classes
    p.common_name = next(
        (name for cls, name in COMMON_PARAMETERS if any(ontology.is_subclass(c, cls) for c in p.classes)),
        None,
    )
    return p, problems


def describe_output(assignment: Assignment, ontology: Ontology) -> tuple[Output, list[Problem]]:
    annotation, _ = merged_annotation(assignment.comments, ontology)
    output = Output(
        name=assignment.name,
        classes=list(dict.fromkeys(annotation.classes)),
        annotation=annotation.text or None,
        label=_text(annotation, ODA.label.value),
        description=_text(annotation, ODA.description.value),
    )
    output.is_comment = any(ontology.is_subclass(c, ODA.WorkflowResultComment.value) for c in output.classes)
    output.extra = [(prop, values) for prop, values in annotation.properties if prop not in _HANDLED]
    return output, list(annotation.problems)


def _text(annotation: Annotation, prop: str) -> str | None:
    values = [v for v in annotation.values(prop) if isinstance(v, str)]
    return values[0] if values else None


def _read_properties(
    p: Parameter, annotation: Annotation, ontology: Ontology, problems: list[Problem], line: int
) -> None:
    p.label = _text(annotation, ODA.label.value)
    p.description = _text(annotation, ODA.description.value)
    p.group = _text(annotation, ODA.group.value)
    formats = [v.value for v in annotation.values(ODA.format.value) if isinstance(v, IRI)]
    implied_formats = [f for f in map(ontology.format, p.classes) if f]
    p.format = (formats or implied_formats or [None])[0]
    p.allowed_values = [v for v in annotation.values(ODA.allowed_value.value) if not isinstance(v, IRI)]
    p.extra = [(prop, values) for prop, values in annotation.properties if prop not in _HANDLED]


def _python_datatype(value: object) -> str | None:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STRING
    if isinstance(value, dict | list | tuple):
        return JSON
    return None


def _settle_type(p: Parameter, value: object, ontology: Ontology, problems: list[Problem], line: int) -> None:
    if isinstance(value, NotLiteral):
        problems.append(
            warning("default-not-literal", f"{p.name}: the default `{value.source}` is not a literal", line)
        )
        value = None
    p.default = value
    declared = ontology.value_datatypes(p.classes)
    if len(declared) > 1:
        carriers = ", ".join(curie(c) for c in p.classes if ontology.value_datatype(c))
        kinds = ", ".join(sorted(curie(d) for d in declared))
        problems.append(
            error("ambiguous-type", f"{p.name}: {carriers} give conflicting value types ({kinds})", line)
        )
        return
    actual = _python_datatype(value)
    if declared:
        p.datatype = next(iter(declared))
        _check_compatible(p, value, actual, problems, line)
        return
    p.datatype = actual if actual in _CLASS_OF_DATATYPE else None
    if p.datatype is None and p.python_type:
        hinted = [_PYTHON_TYPES[t.strip()] for t in p.python_type.split("|") if t.strip() in _PYTHON_TYPES]
        p.datatype = hinted[0] if len(hinted) == 1 else None
    if p.datatype:
        p.classes.append(_CLASS_OF_DATATYPE[p.datatype])


def _check_compatible(
    p: Parameter, value: object, actual: str | None, problems: list[Problem], line: int
) -> None:
    """A default must be a value of the annotated type: 1.5 is no oda:Integer."""
    if actual is None or actual == p.datatype:
        return
    if p.datatype == FLOAT and actual == INTEGER:
        p.default = float(value)  # type: ignore[arg-type]
        return
    if p.datatype == STRING and actual == JSON:
        return
    if p.datatype == INTEGER and actual == FLOAT and float(value).is_integer():  # type: ignore[arg-type]
        p.default = int(value)  # type: ignore[call-overload]
        problems.append(
            warning("integer-as-float", f"{p.name}: integer parameter written as {value!r}", line)
        )
        return
    expected = curie(_CLASS_OF_DATATYPE.get(p.datatype, p.datatype))
    problems.append(
        error("type-mismatch", f"{p.name}: default {value!r} is not a valid value for {expected}", line)
    )


def _settle_unit(
    p: Parameter, annotation: Annotation, ontology: Ontology, problems: list[Problem], line: int
) -> None:
    explicit = []
    for value in annotation.values(ODA.unit.value):
        if isinstance(value, IRI):
            explicit.append(ontology.unit(value.value) or value.value)
        else:
            problems.append(warning("bad-unit", f"{p.name}: oda:unit takes a unit IRI, not {value!r}", line))
    implied = list(dict.fromkeys(u for u in map(ontology.unit, p.classes) if u))
    if explicit:
        p.unit = explicit[0]
    elif implied:
        p.unit = implied[0]
        if len(implied) > 1:
            units = ", ".join(curie(u) for u in implied)
            problems.append(
                warning("conflicting-units", f"{p.name}: classes imply several units ({units})", line)
            )


def _number(value: IRI | Value, what: str, p: Parameter, problems: list[Problem], line: int) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    problems.append(warning("bad-limit", f"{p.name}: {what} must be a number, not {value!r}", line))
    return None


def _settle_limits(
    p: Parameter, annotation: Annotation, ontology: Ontology, problems: list[Problem], line: int
) -> None:
    lowers = [
        _number(v, "oda:lower_limit", p, problems, line) for v in annotation.values(ODA.lower_limit.value)
    ]
    uppers = [
        _number(v, "oda:upper_limit", p, problems, line) for v in annotation.values(ODA.upper_limit.value)
    ]
    for _, values in (item for item in annotation.properties if item[0] == ODA.limits.value):
        if len(values) != 2:
            problems.append(
                warning("bad-limit", f"{p.name}: oda:limits takes two numbers, lower and upper", line)
            )
            continue
        lowers.append(_number(values[0], "oda:limits", p, problems, line))
        uppers.append(_number(values[1], "oda:limits", p, problems, line))
    implied = [ontology.limits(c) for c in p.classes]
    p.lower_limit = _first([*lowers, *(lo for lo, _ in implied)])
    p.upper_limit = _first([*uppers, *(hi for _, hi in implied)])
    if not p.allowed_values:
        p.allowed_values = list(next((v for v in map(ontology.allowed_values, p.classes) if v), ()))
    if p.lower_limit is not None and p.upper_limit is not None and p.lower_limit > p.upper_limit:
        problems.append(
            warning(
                "limits-order",
                f"{p.name}: lower limit {p.lower_limit} is above upper limit {p.upper_limit}",
                line,
            )
        )


def _first(values: list[float | None]) -> float | None:
    return next((v for v in values if v is not None), None)


def _check_default(p: Parameter, problems: list[Problem], line: int) -> None:
    value = p.default
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if p.lower_limit is not None and value < p.lower_limit:
            problems.append(
                warning(
                    "default-out-of-limits",
                    f"{p.name}: default {value} is below the lower limit {p.lower_limit}",
                    line,
                )
            )
        if p.upper_limit is not None and value > p.upper_limit:
            problems.append(
                warning(
                    "default-out-of-limits",
                    f"{p.name}: default {value} is above the upper limit {p.upper_limit}",
                    line,
                )
            )
    if p.allowed_values and value is not None and value not in p.allowed_values:
        allowed = ", ".join(repr(v) for v in p.allowed_values)
        problems.append(
            warning("default-not-allowed", f"{p.name}: default {value!r} is not one of {allowed}", line)
        )
