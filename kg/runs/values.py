"""A run's parameter values, checked against the workflow's description before anything executes.

A bad value should be refused in the user's terminal or HTTP response, with every problem at
once, rather than minutes later inside a kernel (nb2workflow enforces neither limits nor allowed
values at run time). Everything here is read from the description `kg.workflows.show_workflow`
returns, so checking needs no store and no kernel.

The rules a user relies on:

- Values are found by the notebook's own variable name, or by the platform-wide common name
  (RA, DEC, T1, T2, src_name) of the parameter that stands for it; a notebook's own name wins.
- A string, however it came (CLI `-p`, form field, JSON), is read as the text form of the declared
  datatype: "30" for an xsd:integer, "true"/"yes"/"1" for an xsd:boolean, JSON text for a parameter
  whose default is a dict or list. Typed values are checked as they are: an int is fine for a
  float, an integral float (30.0) for an integer; a bool is never a number. A parameter with no
  declared datatype gets its value as given.
- Numbers are cast to the parameter's type, so a float parameter given 30, "30" or "30.0" ends up
  30.0: the same values, the same `canonical_values`, the same run cache key.
- Limits are inclusive; allowed values are compared after casting.
- None (JSON null), and the text "None" or "null", mean "no value" for an optional parameter (for
  any other they are ordinary text); a parameter that is not optional must end up with a value.
- Every value is checked, defaults included (marked "(the default)" in messages): a run uses them.
- oda:POSIXPath values must exist; a relative path is read from the notebook's directory and
  passed on absolute (symlinks resolved), since runs execute in their own working directory. The
  empty string, the usual "not given", is passed unchanged; so is an empty oda:FileURL.
- A non-empty oda:FileURL is refused unless the platform allows fetching files from URLs.
- Times must parse as their format (oda:ISOT, oda:MJD) says, else as astropy.time reads them; the
  end time (T2) must be after the start time (T1), compared as instants whatever their formats.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from pyoxigraph import NamedNode

from kg.namespaces import ODA
from kg.ontology import default_ontology
from kg.terms import expand_curie

#: How the settings that let runs fetch oda:FileURL values are spelled, for messages.
ALLOW_FILE_URLS_HINT = "set KG_ALLOW_FILE_URLS=1 or pass --allow-file-urls"
#: Text that means "no value" for an optional parameter (Python's and JSON's spellings).
NULL_TEXTS = frozenset({"None", "null"})
URL_SCHEMES = frozenset({"http", "https", "ftp", "file"})
_BOOLEAN_TEXTS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_ISOT, _MJD = "oda:ISOT", "oda:MJD"
#: astropy's `isot` format: date, `T`, time with optional fraction of a second.
_ISOT_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?")
_MJD_ZERO = datetime(1858, 11, 17)
_TIME_EXAMPLES = {_ISOT: "an ISOT time like 2022-01-01T00:00:00", _MJD: "an MJD (days) like 60000.5"}


class InvalidValues(ValueError):
    """Values a workflow cannot run with; `problems` lists each, `str()` all of them."""

    def __init__(self, workflow: str, problems: list[str]) -> None:
        self.workflow = workflow
        self.problems = problems
        lines = "".join(f"\n  - {problem}" for problem in problems)
        super().__init__(f"invalid values for {workflow}:{lines}")


def resolve_values(
    workflow: Mapping[str, object],
    given: Mapping[str, object],
    *,
    notebook_dir: Path,
    allow_file_urls: bool = False,
) -> dict[str, object]:
    """Every parameter's value by the notebook's own name, in parameter order: given ones cast and
    checked, the others their defaults (module docstring: the rules). InvalidValues lists all problems."""
    parameters: list[dict] = workflow["parameters"]  # type: ignore[assignment]
    named, problems = _by_own_name(parameters, given)
    values: dict[str, object] = {}
    times: dict[str, list[tuple[str, float]]] = {"T1": [], "T2": []}
    for p in parameters:
        name = p["name"]
        is_default = name not in named
        raw = p.get("default") if is_default else named[name]
        checked = _check(p, raw, is_default, notebook_dir, allow_file_urls)
        values[name] = checked.value
        problems += checked.problems
        if checked.time and p.get("common_name") in times:
            times[p["common_name"]].append(checked.time)
    problems += _time_order(times)
    if problems:
        raise InvalidValues(str(workflow["name"]), problems)
    return values


def canonical_values(values: Mapping[str, object]) -> str:
    """The values as canonical JSON (sorted keys, no whitespace, shortest float repr), for cache keys.

    Give it `resolve_values` output: casting has already made 30, "30" and "30.0" for a float
    parameter the same 30.0, so the key does not depend on how a user typed a number.
    """
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# -- names ---------------------------------------------------------------------------------


def _by_own_name(parameters: list[dict], given: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """The given values keyed by the notebook's own names, and the problems with the names."""
    own = {p["name"] for p in parameters}
    common: dict[str, list[str]] = {}
    for p in parameters:
        if p.get("common_name"):
            common.setdefault(p["common_name"], []).append(p["name"])
    named: dict[str, object] = {}
    given_as: dict[str, str] = {}
    problems = []
    for key, value in given.items():
        if key in own:
            target = key
        elif len(common.get(key, ())) == 1:
            target = common[key][0]
        elif key in common:
            problems.append(
                f"{key} is ambiguous: it stands for {', '.join(common[key])}; give one of those names"
            )
            continue
        else:
            problems.append(_unknown_name(key, parameters))
            continue
        if target in given_as:
            problems.append(f"{target} is given twice: as {given_as[target]} and as {key}")
            continue
        given_as[target] = key
        named[target] = value
    return named, problems


def _unknown_name(key: str, parameters: list[dict]) -> str:
    accepted = [p["name"] for p in parameters] + [
        p["common_name"] for p in parameters if p.get("common_name")
    ]
    close = difflib.get_close_matches(key, accepted, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    listed = ", ".join(
        p["name"] + (f" (or {p['common_name']})" if p.get("common_name") not in (None, p["name"]) else "")
        for p in parameters
    )
    return f"{key}: no such parameter{hint}; the parameters are {listed or 'none'}"


# -- one parameter -------------------------------------------------------------------------


class _Checked(NamedTuple):
    value: object
    problems: list[str]
    time: tuple[str, float] | None = None
    """(how to name the value in a message, the instant) for a time parameter that parsed."""


def _check(p: dict, raw: object, is_default: bool, notebook_dir: Path, allow_file_urls: bool) -> _Checked:
    """The value to pass for `p` and what is wrong with it (a value that does not cast goes no further)."""
    name = p["name"]
    tag = " (the default)" if is_default else ""
    if _is_null(p, raw, is_default):
        if p.get("optional"):
            return _Checked(None, [])
        required = "is required (it has no default)" if is_default else "cannot be None: it is not optional"
        return _Checked(None, [f"{name} {required}"])
    cast, expected = _caster(p)
    try:
        value = cast(raw)
    except (ValueError, TypeError, OverflowError):
        return _Checked(raw, [f"{name} = {raw!r}{tag} is not {expected}"])
    subject = f"{name} = {value!r}{tag}"
    problems = _range_problems(p, value, subject)
    value, problem = _file_check(p, value, subject, notebook_dir, allow_file_urls)
    if problem:
        return _Checked(value, [*problems, problem])
    if not _is_time(p):
        return _Checked(value, problems)
    try:
        return _Checked(value, problems, (subject, _parse_time(p, value)))
    except (ValueError, TypeError):
        return _Checked(
            value, [*problems, f"{subject} is not {_TIME_EXAMPLES.get(p.get('format'), 'a time')}"]
        )


# -- types ---------------------------------------------------------------------------------


def _is_null(p: dict, raw: object, is_default: bool) -> bool:
    return raw is None or (not is_default and bool(p.get("optional")) and raw in NULL_TEXTS)


def _to_int(value: object) -> int:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            value = float(value)  # "30.0" and "1e3" are integers too
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(value)


def _to_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_TEXTS:
        return _BOOLEAN_TEXTS[value.strip().lower()]
    raise ValueError(value)


def _to_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(value)


_CASTS: dict[str, tuple[Callable[[object], object], str]] = {
    "xsd:integer": (_to_int, "an integer"),
    "xsd:float": (_to_float, "a finite number"),
    "xsd:double": (_to_float, "a finite number"),
    "xsd:decimal": (_to_float, "a finite number"),
    "xsd:boolean": (_to_bool, "a boolean (true/false, yes/no, 1/0)"),
    "xsd:string": (_to_str, "a string"),
}


def _caster(p: dict) -> tuple[Callable[[object], object], str]:
    """How to read a value for `p`, and what it must be (for the message when it is not)."""
    default = p.get("default")
    if isinstance(default, dict | list):  # a structure in the notebook, however its class is typed
        kind = type(default)
        return _structured(kind), f"a JSON {'object' if kind is dict else 'array'} like the default"
    datatype = p.get("datatype")
    if datatype not in _CASTS:
        return (lambda value: value), "a value"
    cast, expected = _CASTS[datatype]
    return cast, f"{expected} ({datatype})"


def _structured(kind: type) -> Callable[[object], object]:
    def cast(value: object) -> object:
        value = json.loads(value) if isinstance(value, str) else value
        if not isinstance(value, kind):
            raise TypeError(value)
        return value

    return cast


# -- checks --------------------------------------------------------------------------------


def _range_problems(p: dict, value: object, subject: str) -> list[str]:
    problems = []
    unit = f" ({p['unit']})" if p.get("unit") else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        lower, upper = p.get("lower_limit"), p.get("upper_limit")
        if lower is not None and value < lower:
            problems.append(f"{subject} is below the lower limit {lower}{unit}")
        if upper is not None and value > upper:
            problems.append(f"{subject} is above the upper limit {upper}{unit}")
    allowed = p.get("allowed_values") or []
    if allowed and value not in allowed:
        listed = ", ".join(sorted(map(repr, allowed)))  # the graph keeps no order
        problems.append(f"{subject} is not one of the allowed values {listed}")
    return problems


def _file_check(
    p: dict, value: object, subject: str, notebook_dir: Path, allow_file_urls: bool
) -> tuple[object, str | None]:
    """The value to pass for file references (paths made absolute) and what is wrong with it."""
    if not isinstance(value, str) or value == "":
        return value, None
    if _has_class(p, ODA.POSIXPath):
        path = (notebook_dir / value).resolve()
        if path.exists():
            return str(path), None
        where = "" if Path(value).is_absolute() else "; relative paths are read from the notebook's directory"
        return value, f"{subject}: no such file or directory {path}{where}"
    if _has_class(p, ODA.FileURL):
        return value, _url_problem(value, subject, allow_file_urls)
    return value, None


def _url_problem(value: str, subject: str, allow_file_urls: bool) -> str | None:
    if not _is_fetchable_url(value):
        return f"{subject} is not an http(s), ftp or file URL"
    if not allow_file_urls:
        return f"{subject}: this platform does not fetch files from URLs ({ALLOW_FILE_URLS_HINT} to allow it)"
    return None


def _is_fetchable_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in URL_SCHEMES and bool(parts.path if parts.scheme == "file" else parts.netloc)


def _has_class(p: dict, cls: NamedNode) -> bool:
    """Whether one of the parameter's annotated classes is `cls` or a subclass of it."""
    ontology = default_ontology()
    return any(ontology.is_subclass(expand_curie(t) or t, cls.value) for t in p.get("types") or ())


def _is_time(p: dict) -> bool:
    return p.get("format") in _TIME_EXAMPLES or _has_class(p, ODA.TimeInstant)


def _parse_time(p: dict, value: object) -> float:
    """The value as the notebook will read it, in MJD days: MJD numbers, ISOT text, else any format
    astropy knows. ISOT is read by `datetime` (astropy takes 0.4 s to import, on every `kg run`);
    ordering T1 and T2 needs no time scale."""
    fmt = p.get("format")
    if fmt == _MJD or (fmt is None and isinstance(value, int | float)):
        return _to_float(value)
    if not isinstance(value, str):
        raise TypeError(value)
    if _ISOT_TEXT.fullmatch(value):
        return (datetime.fromisoformat(value) - _MJD_ZERO).total_seconds() / 86400
    if fmt == _ISOT:
        raise ValueError(value)
    from astropy.time import Time  # another format: rare, worth the import then

    return float(Time(value, scale="utc").mjd)


def _time_order(times: Mapping[str, list[tuple[str, float]]]) -> list[str]:
    """The end time must come after the start time, when the notebook has one of each."""
    if len(times["T1"]) != 1 or len(times["T2"]) != 1:
        return []
    (start, t1), (end, t2) = times["T1"][0], times["T2"][0]
    return [] if t2 > t1 else [f"{end} is not after {start}: the end time must be after the start time"]
