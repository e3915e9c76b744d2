"""Which notebooks a path stands for, and the repository each belongs to.

Rules follow MMODA's (nb2workflow's): a repository with `mmoda.yaml` publishes the
`*.ipynb` in its `notebook_path` whose file name matches `filename_pattern`; `test_*`
notebooks are tests; papermill output notebooks are never workflows of their own.
Without `mmoda.yaml`, every notebook below the directory counts, and a subdirectory
carrying its own `mmoda.yaml` is a repository of its own.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from .diagnostics import Diagnostic, error
from .model import Repository

MMODA_CONFIG = "mmoda.yaml"
HELP_PAGE = "mmoda_help_page.md"
ACKNOWLEDGEMENTS = "acknowledgements.md"
_SKIPPED_DIRS = {"__pycache__", "node_modules", "venv"}


def is_skipped_directory(name: str) -> bool:
    """Directories that hold no one's notebooks: hidden ones (`.git`, `.ipynb_checkpoints`,
    `.venv`, `.kg`), caches and installed packages."""
    return name.startswith(".") or name in _SKIPPED_DIRS


class UsageError(Exception):
    """A path given by the user that cannot be harvested at all."""


@dataclass(frozen=True)
class Target:
    path: Path
    repository: Repository
    notebook_path: str
    """Relative to the repository root, `/`-separated: part of the workflow's identity."""
    explicit: bool
    """Named by the user, so harvested even when it is a papermill output notebook."""


@dataclass(frozen=True)
class Scope:
    """A part of a repository that was harvested whole: graphs of its notebooks that
    were not found again belong to deleted notebooks."""

    repository: str
    prefix: str


@dataclass
class Discovery:
    targets: list[Target] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    repositories: dict[Path, Repository] = field(default_factory=dict)

    def repository(self, root: Path) -> Repository:
        """Each root is asked of git once per discovery, and afresh by the next one."""
        if root not in self.repositories:
            self.repositories[root] = repository_for(root)
        return self.repositories[root]


def discover(paths: list[Path]) -> Discovery:
    found = Discovery()
    for given in paths:
        path = given.resolve()
        if not path.exists():
            raise UsageError(f"{given}: no such file or directory")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise UsageError(f"{given}: not a notebook (.ipynb)")
            repository = found.repository(root_of(path.parent))
            found.targets.append(Target(path, repository, _relative(path, repository), explicit=True))
        else:
            _walk(path, found)
    return found


def root_of(directory: Path) -> Path:
    """The nearest enclosing directory with `mmoda.yaml`, else the git work tree, else itself."""
    for candidate in (directory, *directory.parents):
        if (candidate / MMODA_CONFIG).is_file():
            return candidate
    top = _git(directory, "rev-parse", "--show-toplevel")
    return Path(top) if top else directory


def _walk(directory: Path, found: Discovery) -> None:
    root = root_of(directory)
    repository = found.repository(root)
    config_file = root / MMODA_CONFIG
    if config_file.is_file():
        if not _configured(directory, root, repository, config_file, found):
            return  # no scope: a broken configuration must not read as "all notebooks deleted"
    else:
        _collect(directory, repository, found)
    found.scopes.append(Scope(repository.iri, _relative(directory, repository, directory=True)))


def _collect(directory: Path, repository: Repository, found: Discovery) -> None:
    """Every notebook below `directory`; a subdirectory with its own `mmoda.yaml` is walked as
    a repository of its own."""
    for path in sorted(directory.iterdir()):
        if path.is_dir() and not is_skipped_directory(path.name):
            if (path / MMODA_CONFIG).is_file():
                _walk(path, found)
            else:
                _collect(path, repository, found)
        elif _is_notebook_file(path):
            found.targets.append(Target(path, repository, _relative(path, repository), explicit=False))


def _configured(
    directory: Path, root: Path, repository: Repository, config_file: Path, found: Discovery
) -> bool:
    try:
        config = yaml.safe_load(config_file.read_text()) or {}
        if not isinstance(config, dict):
            raise ValueError("expected a mapping of settings")
        pattern = re.compile(str(config.get("filename_pattern", ".*")))
    except (yaml.YAMLError, ValueError, re.error, OSError) as exc:
        found.diagnostics.append(
            error("bad-config", f"cannot use {MMODA_CONFIG}: {exc}").at(str(config_file))
        )
        return False
    notebook_dir = (root / str(config.get("notebook_path", "."))).resolve()
    if not notebook_dir.is_dir():
        message = f"notebook_path {config.get('notebook_path')!r} is not a directory"
        found.diagnostics.append(error("bad-config", message).at(str(config_file)))
        return False
    for path in sorted(notebook_dir.glob("*.ipynb")):
        selected = pattern.match(path.name) or path.name.startswith("test_")
        if selected and _is_notebook_file(path) and path.is_relative_to(directory):
            found.targets.append(Target(path, repository, _relative(path, repository), explicit=False))
    return True


def _is_notebook_file(path: Path) -> bool:
    return path.is_file() and path.suffix == ".ipynb" and not path.stem.endswith("_output")


def _relative(path: Path, repository: Repository, directory: bool = False) -> str:
    relative = path.relative_to(repository.root).as_posix()
    if directory:
        return "" if relative == "." else relative + "/"
    return relative


def repository_for(root: Path) -> Repository:
    """Identity and metadata of a repository root."""
    top = _git(root, "rev-parse", "--show-toplevel")
    remote = _git(root, "remote", "get-url", "origin") if top else None
    iri = public_url(remote, root) if remote and Path(top) == root else root.as_uri()
    return Repository(
        root=str(root),
        iri=iri,
        commit=_git(root, "rev-parse", "HEAD") if top else None,
        help_text=_read_text(root / HELP_PAGE),
        acknowledgements=_read_text(root / ACKNOWLEDGEMENTS),
    )


def public_url(remote: str, root: Path | None = None) -> str:
    """A git remote as a browsable URL without credentials: `git@host:a/b.git` -> `https://host/a/b`;
    a remote on this machine (a path, relative to `root`) becomes its `file:` IRI."""
    scp = re.match(r"^[\w.-]+@([\w.-]+):(?!//)(.+)$", remote)
    if scp:
        remote = f"https://{scp[1]}/{scp[2]}"
    parts = urlsplit(remote)
    if parts.scheme in ("", "file"):
        local = Path(parts.path if parts.scheme else remote)
        return ((root or Path.cwd()) / local).resolve().as_uri()
    netloc = parts.hostname or ""
    if parts.port and parts.scheme in ("http", "https"):
        netloc += f":{parts.port}"
    scheme = parts.scheme if parts.scheme in ("http", "https") else "https"
    return urlunsplit((scheme, netloc, parts.path.removesuffix(".git"), "", ""))


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
