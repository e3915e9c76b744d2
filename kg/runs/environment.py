"""The software environment a kernel runs notebooks in: its Python version and installed packages.

A run's cache key includes this environment, so it is needed before a kernel starts: the kernelspec's
interpreter is asked directly, and the answer kept in the process and on disk. It is reused until one
of that interpreter's package directories changes (site-packages, or any directory on its `sys.path`
holding package metadata: installing, upgrading or removing a package changes its modification
time), which a stat of a few directories tells at no real cost.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from kg.runs.hashing import canonical_json, sha256_hash

_REPORT_SCRIPT = """
import importlib.metadata, json, os, platform, re, site, sys
sys.path = [p for p in sys.path if p]  # not the working directory, which `-c` puts first
packages = {}
for dist in importlib.metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        packages.setdefault(re.sub(r"[-_.]+", "-", name).lower(), dist.version)
site_directories = {*site.getsitepackages(), site.getusersitepackages()}
directories = [p for p in sys.path if os.path.isdir(p) and (p in site_directories or any(
    n.endswith((".dist-info", ".egg-info")) for n in os.listdir(p)))]
print(json.dumps({"python": platform.python_version(), "packages": packages, "path": directories}))
"""

_lock = threading.Lock()
_Entry = tuple[tuple[tuple[str, int], ...], dict[str, str]]
"""The package directories' modification times when asked, and the environment then."""
_cache: dict[str, _Entry] = {}
"""By kernel name: this process looks a kernel's spec up once (jupyter_client's search, ~0.5 ms)."""


def kernel_environment(kernel_name: str = "python3") -> dict[str, str]:
    """`{"python": <version>, <package>: <version>, ...}` for the interpreter of Jupyter kernel `kernel_name`.

    Package names are normalised as PyPI does (lower case, runs of `-_.` as `-`). Kept in this
    process and on disk (`$XDG_CACHE_HOME/oda-kg/`, by interpreter), so each `kg run` does not
    start an interpreter to ask again (0.15-0.25 s) while nothing was installed or removed.
    """
    with _lock:
        cached = _cache.get(kernel_name)
        if _fresh(cached):
            return dict(cached[1])
        interpreter = kernel_interpreter(kernel_name)
        saved = _read_disk_cache(interpreter)
        if _fresh(saved):
            _cache[kernel_name] = saved
            return dict(saved[1])
        report = _ask_interpreter(interpreter)
        environment = {"python": report["python"], **dict(sorted(report["packages"].items()))}
        _cache[kernel_name] = (_stamp(report["path"]), environment)
        _write_disk_cache(interpreter, _cache[kernel_name])
        return dict(environment)


def _fresh(entry: _Entry | None) -> bool:
    """Whether nothing was installed or removed since `entry` was taken."""
    return entry is not None and _stamp([path for path, _ in entry[0]]) == entry[0]


def _disk_cache_file(interpreter: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(interpreter.encode()).hexdigest()[:16]
    return base / "oda-kg" / f"kernel-environment-{digest}.json"


def _read_disk_cache(interpreter: str) -> _Entry | None:
    """The entry written by an earlier process, or None when there is none (or it is unreadable)."""
    try:
        saved = json.loads(_disk_cache_file(interpreter).read_text())
        if saved["interpreter"] != interpreter:
            return None
        return tuple((path, int(mtime)) for path, mtime in saved["stamps"]), dict(saved["environment"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_disk_cache(interpreter: str, entry: _Entry) -> None:
    """Best effort: a read-only home only means asking the interpreter again next time."""
    path = _disk_cache_file(interpreter)
    saved = {"interpreter": interpreter, "stamps": entry[0], "environment": entry[1]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(saved))
        temporary.replace(path)  # atomic: a concurrent reader sees the old file or the new one
    except OSError:
        pass


def environment_fingerprint(environment: dict[str, str]) -> str:
    """`sha256:<hex>` of the environment's canonical JSON: equal environments, equal fingerprints."""
    return sha256_hash(canonical_json(environment))


def kernel_interpreter(kernel_name: str) -> str:
    """The executable a kernel is started with, resolved as jupyter_client resolves it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # 0.13 s: not for every `kg`

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except NoSuchKernel:
        installed = ", ".join(sorted(KernelSpecManager().find_kernel_specs())) or "none"
        raise ValueError(f"no Jupyter kernel named {kernel_name!r} (installed: {installed})") from None
    executable = argv[0]
    if executable in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        return sys.executable  # jupyter_client starts such kernels with the caller's own interpreter
    return shutil.which(executable) or executable


def _ask_interpreter(interpreter: str) -> dict:
    result = subprocess.run(
        [interpreter, "-c", _REPORT_SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not list the packages of {interpreter}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def _stamp(directories: list[str]) -> tuple[tuple[str, int], ...]:
    """Each directory with its modification time (0 when gone): installs and removals change it."""
    stamps = []
    for directory in directories:
        try:
            stamps.append((directory, os.stat(directory).st_mtime_ns))
        except OSError:
            stamps.append((directory, 0))
    return tuple(stamps)
