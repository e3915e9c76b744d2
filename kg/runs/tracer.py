"""Record every astroquery service call a notebook makes, from inside its kernel.

`kernel_site/sitecustomize.py` calls `install()` at kernel start when `KG_TRACE_FILE` is set;
`kg.runs.trace` reads what it wrote. This module runs in the kernel's Python, which need not
have kg installed, so it imports nothing from kg: the standard library only, and `requests`
once astroquery has loaded it.

Nothing is imported from astroquery here: it is slow to import and `astroquery.gaia` reaches
the network at import. A meta-path finder instead waits for astroquery's own modules to load;
after each one, the service classes defined so far are wrapped, so a kernel that never uses
astroquery pays one name check per import and nothing else.

Which calls are recorded: the public methods of every subclass of `astroquery.query.BaseQuery`,
`astroquery.query.BaseVOQuery` and `astroquery.utils.tap.core.Tap` (so `TapPlus` and Gaia) whose
name starts with one of `QUERY_PREFIXES`, ends with `_async`, or has an `_async` twin (the
synchronous methods astroquery generates from `query_x_async`). A call made while another
recorded call runs (a sync method calling its async twin, Gaia's `launch_job` calling TapPlus's)
belongs to the outer one and is not recorded again; a call asking only for the request it
would send (`get_query_payload=True`) queries nothing and is not recorded.

Each call is one JSON line appended to `$KG_TRACE_FILE` (opened per line, so a kernel that
dies keeps every call before it). Errors are recorded and re-raised unchanged.

Besides recording, while a recorded call runs every `requests` request it makes gets a timeout
of at most `$KG_ASTROQUERY_TIMEOUT` seconds, and so does every TAP connection astroquery's own
TAP client opens: a server that accepts and never answers fails the call instead of hanging
the run. Astroquery's response cache (7 days by default) is switched off, so a re-run sees what
the services answer now, which is what re-running on new data and comparing runs rely on; a
notebook may still turn it on, and each record says whether it was on (`cache`).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

TRACE_FILE_ENV = "KG_TRACE_FILE"
TIMEOUT_ENV = "KG_ASTROQUERY_TIMEOUT"
DEFAULT_TIMEOUT_S = 60.0

QUERY_PREFIXES = (
    "query",
    "launch_job",
    "cone_search",
    "cross_match",
    "get_images",
    "get_image_list",
    "get_cutouts",
    "get_spectra",
    "download_",
)

#: Where the service base classes live: (module, class name).
_BASES = (
    ("astroquery.query", "BaseQuery"),
    ("astroquery.query", "BaseVOQuery"),
    ("astroquery.utils.tap.core", "Tap"),
)
_TAP_CONNECTIONS = "astroquery.utils.tap.conn.tapconn"

#: Methods whose first argument (or one of `_TARGET_KEYWORDS`) names what is asked about.
_TARGET_METHOD = re.compile(r"object|region|cone|image|target|cutout|cross_?id")
_TARGET_KEYWORDS = ("object_name", "objectname", "objects", "coordinates", "coordinate", "target", "position")
_EXTENT_KEYWORDS = ("radius", "inner_radius", "width", "height")
#: A string made only of numbers and sexagesimal marks is a position, not an object name.
_POSITION_TEXT = re.compile(r"^[+\-]?\d[\s\d.,:+\-hdms°'\"]*$")
_TEXT_LIMIT = 500


class _State(threading.local):
    depth = 0


_state = _State()
_wrapped: set[type] = set()


def install() -> None:
    """Start tracing this process: wrap astroquery's service classes as their modules load."""
    sys.meta_path.insert(0, _AstroqueryFinder(timeout_s()))


def timeout_s() -> float:
    """The HTTP timeout for astroquery calls, from `$KG_ASTROQUERY_TIMEOUT`."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        return float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds, got {text!r}") from None


class _AstroqueryFinder:
    """Finds nothing itself: lets the other finders find astroquery's modules, then chains a
    loader that wraps the service classes once each module has run."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    def find_spec(self, name: str, path: Any = None, target: ModuleType | None = None) -> Any:
        if name != "astroquery" and not name.startswith("astroquery."):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AfterExecLoader(spec.loader, self.timeout_s)
                return spec
        return None


class _AfterExecLoader:
    """Runs the real loader, then `_module_loaded`. The module keeps the real loader, so code
    reading `__loader__` or `__spec__.loader` (resources, source lookup) never sees this one."""

    def __init__(self, loader: Any, timeout_s: float) -> None:
        self.loader = loader
        self.timeout_s = timeout_s

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _module_loaded(module, self.timeout_s)


def _module_loaded(module: ModuleType, timeout_s: float) -> None:
    if module.__name__ == "astroquery" and hasattr(module, "cache_conf"):  # astroquery >= 0.4.7
        module.cache_conf.cache_active = False
    elif module.__name__ == "astroquery.query":
        _cap_requests_timeouts(timeout_s)
    elif module.__name__ == _TAP_CONNECTIONS:
        _cap_tap_timeouts(module.ConnectionHandler, timeout_s)
    for cls in _service_classes():
        if cls not in _wrapped:
            _wrapped.add(cls)
            _wrap_class(cls)


def _service_classes() -> Iterator[type]:
    for module_name, class_name in _BASES:
        base = getattr(sys.modules.get(module_name), class_name, None)
        if base is None:
            continue
        stack = [base]
        while stack:
            cls = stack.pop()
            yield cls
            stack.extend(cls.__subclasses__())


def _is_query_method(cls: type, name: str) -> bool:
    if name.startswith("_"):
        return False
    return name.startswith(QUERY_PREFIXES) or name.endswith("_async") or hasattr(cls, name + "_async")


def _wrap_class(cls: type) -> None:
    """Wrap the query methods `cls` itself defines (inherited ones are wrapped on their class)."""
    for name, attribute in list(vars(cls).items()):
        if not _is_query_method(cls, name):
            continue
        if isinstance(attribute, classmethod):
            setattr(cls, name, classmethod(_traced(attribute.__func__, name)))
        elif callable(getattr(attribute, "fn", None)):
            # astroquery's `class_or_instance` descriptor: callable on the class or an instance.
            attribute.fn = _traced(attribute.fn, name)
        elif callable(attribute) and not isinstance(attribute, type | staticmethod):
            setattr(cls, name, _traced(attribute, name))


def _traced(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def traced(owner: Any, *args: Any, **kwargs: Any) -> Any:
        if _state.depth or kwargs.get("get_query_payload"):
            return method(owner, *args, **kwargs)
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        _state.depth = 1
        try:
            result = method(owner, *args, **kwargs)
        except BaseException as error:
            _write(_record(method, name, owner, args, kwargs, started_at, time.perf_counter() - start, error))
            raise
        finally:
            _state.depth = 0
        _write(_record(method, name, owner, args, kwargs, started_at, time.perf_counter() - start, None))
        return result

    return traced


def _record(
    method: Callable[..., Any],
    name: str,
    owner: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    started_at: datetime,
    duration_s: float,
    error: BaseException | None,
) -> dict[str, Any]:
    objects, region = describe_target(name, _named_arguments(method, name, owner, args, kwargs))
    return {
        "module": owner.__name__ if isinstance(owner, type) else type(owner).__name__,
        "method": name,
        "arguments": {
            "args": [to_json(a) for a in args],
            "kwargs": {k: to_json(v) for k, v in kwargs.items()},
        },
        "started_at": started_at.isoformat(),
        "duration_s": duration_s,
        "outcome": "ok" if error is None else "error",
        "error": None if error is None else f"{type(error).__name__}: {error}",
        "objects": objects,
        "region": region,
        "cache": _cache_active(kwargs),
    }


def _write(record: dict[str, Any]) -> None:
    with open(os.environ[TRACE_FILE_ENV], "a", encoding="utf-8") as trace:
        trace.write(json.dumps(record, ensure_ascii=False) + "\n")


def _cache_active(kwargs: dict[str, Any]) -> bool | None:
    """The call's own `cache=` when it gives one, else astroquery's global setting, if it has one."""
    if isinstance(kwargs.get("cache"), bool):
        return kwargs["cache"]
    settings = getattr(sys.modules["astroquery"], "cache_conf", None)
    return None if settings is None else bool(settings.cache_active)


def _named_arguments(
    method: Callable[..., Any], name: str, owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The call's arguments by parameter name in signature order, defaults included (so a
    region's default radius is known); by position (`arg0`, ...) when they do not bind.

    A sync method astroquery generates takes `*args, **kwargs`: its `_async` twin's signature
    names them.
    """
    import inspect  # only once a call is made: kernels that make none do not pay for it

    try:
        signature = inspect.signature(method)
        if any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values()):
            cls = owner if isinstance(owner, type) else type(owner)
            twin = inspect.getattr_static(cls, name + "_async", None)
            twin = getattr(twin, "fn", getattr(twin, "__func__", twin))
            signature = inspect.signature(twin) if callable(twin) else signature
        bound = signature.bind(owner, *args, **kwargs)
    except (TypeError, ValueError):
        return {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}
    bound.apply_defaults()
    named = dict(list(bound.arguments.items())[1:])
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            named.update(named.pop(parameter.name))
    return named


def describe_target(method: str, arguments: dict[str, Any]) -> tuple[list[str], str | None]:
    """The object names and the sky region a call asks about, as far as its arguments say.

    Only for a method whose name says it takes a target (`query_object`, `query_region`,
    `cone_search`, `get_images`, ...): the target is its first argument (`arguments` in
    signature order), else the first of `_TARGET_KEYWORDS` given. A name is an object;
    coordinates, or any target with a radius, width or height, make a region.
    """
    if not _TARGET_METHOD.search(method) or not arguments:
        return [], None
    first = next(iter(arguments.values()))
    given = [arguments[k] for k in _TARGET_KEYWORDS if arguments.get(k) is not None]
    target = first if first is not None or not given else given[0]
    names = target if isinstance(target, list | tuple) else [target]
    objects = [n.strip() for n in names if isinstance(n, str) and not _POSITION_TEXT.match(n)]
    extents = [f"{k}={to_json(arguments[k])}" for k in _EXTENT_KEYWORDS if arguments.get(k) is not None]
    if target is None or (objects and not extents):
        return objects, None
    return objects, "; ".join([_text(target), *extents])


def to_json(value: Any) -> Any:
    """`value` as JSON: JSON-able values as they are, anything else (SkyCoord, Quantity, Table) as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return _text(value)


def _text(value: Any) -> str:
    if _is_coordinate(value):
        if value.isscalar:
            return _coordinate_text(value)
        return ", ".join(_coordinate_text(c) for c in value)
    if hasattr(value, "unit") and hasattr(value, "value"):
        return f"{value.value} {value.unit}".strip()
    text = str(value)
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + "…"


def _is_coordinate(value: Any) -> bool:
    return hasattr(value, "frame") and hasattr(value, "spherical") and hasattr(value, "isscalar")


def _coordinate_text(coordinate: Any) -> str:
    """`ICRS 10.684708 41.26875`: the frame and its longitude and latitude in degrees."""
    spherical = coordinate.spherical
    lon, lat = (round(float(angle.degree), 6) for angle in (spherical.lon, spherical.lat))
    return f"{coordinate.frame.name.upper()} {lon} {lat}"


def _capped(timeout: Any, limit: float) -> Any:
    """A `requests` timeout (None, seconds, or a (connect, read) pair) no longer than `limit`."""
    if timeout is None:
        return limit
    if isinstance(timeout, tuple):
        return tuple(_capped(t, limit) for t in timeout)
    return min(timeout, limit) if isinstance(timeout, int | float) else timeout


def _cap_requests_timeouts(limit: float) -> None:
    """Every request sent while a recorded call runs, whichever session sends it (astroquery's
    or pyvo's), goes through `HTTPAdapter.send`, which always gets `timeout` by keyword."""
    from requests.adapters import HTTPAdapter

    send = HTTPAdapter.send

    @functools.wraps(send)
    def send_with_timeout(self: Any, request: Any, **kwargs: Any) -> Any:
        if _state.depth:
            kwargs["timeout"] = _capped(kwargs.get("timeout"), limit)
        return send(self, request, **kwargs)

    HTTPAdapter.send = send_with_timeout


def _cap_tap_timeouts(handler: type, limit: float) -> None:
    """Astroquery's TAP client (TapPlus, Gaia) opens `http.client` connections without a timeout
    (the import-time status check of `astroquery.gaia` included)."""
    for name in ("get_connection", "get_connection_secure"):
        open_connection = getattr(handler, name)

        def with_timeout(*args: Any, _open: Callable[..., Any] = open_connection, **kwargs: Any) -> Any:
            connection = _open(*args, **kwargs)
            given = connection.timeout if isinstance(connection.timeout, int | float) else None
            connection.timeout = _capped(given, limit)
            return connection

        setattr(handler, name, functools.wraps(open_connection)(with_timeout))
