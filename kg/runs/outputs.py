"""A run's output values: captured inside the kernel after the notebook's cells, hashed and kept here.

A cell appended to the executed notebook (tagged `kg-outputs`, as papermill tags the cell it injects)
describes the variables of the notebook's `outputs` cell as JSON in the run's directory: plain JSON
values as they are, numpy arrays and scalars, astropy tables (ECSV text) and quantities (value and unit),
a string or path naming an existing file as that file, anything else by its repr. The parent process
then copies files into `outputs/`, hashes everything and keeps small values inline, so identical runs
give identical hashes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

from kg.runs.hashing import canonical_json, sha256_hash
from kg.runs.layout import CAPTURE_FILE, OUTPUTS_DIR
from kg.runs.model import OutputValue

INLINE_LIMIT = 64 * 1024
"""Largest canonical JSON (bytes) of a value kept inline; a larger value is written to `outputs/`."""
CELL_TAG = "kg-outputs"

_CAPTURE_FUNCTION = '''\
def _kg_capture_outputs(names, destination):
    """Describe the output variables as JSON for oda-kg (cell added by oda-kg, not part of the notebook)."""
    import io
    import json
    import os
    import sys

    np = sys.modules.get("numpy")
    units = sys.modules.get("astropy.units")
    tables = sys.modules.get("astropy.table")

    def plain(value):
        if np is not None and isinstance(value, np.generic):
            return value.item()
        if np is not None and isinstance(value, np.ndarray):
            return value.tolist()
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    def describe(value):
        if isinstance(value, (str, os.PathLike)) and os.path.isfile(value):
            return {"kind": "file", "value": os.fspath(value), "path": os.path.abspath(value)}
        if tables is not None and isinstance(value, tables.Table):
            text = io.StringIO()
            value.write(text, format="ascii.ecsv")
            return {"kind": "table", "value": {"format": "ascii.ecsv", "text": text.getvalue()}}
        if units is not None and isinstance(value, units.Quantity):
            data = {"value": value.value.tolist(), "unit": value.unit.to_string()}
            return {"kind": "quantity", "value": data}
        if np is not None and isinstance(value, np.ndarray):
            data = {"dtype": str(value.dtype), "shape": list(value.shape), "data": value.tolist()}
            return {"kind": "array", "value": data}
        return {"kind": "json", "value": value}

    user_namespace = globals()
    entries = []
    for name in names:
        if name not in user_namespace:
            raise RuntimeError(f"the notebook did not define its output {name!r}")
        value = user_namespace[name]
        try:
            entry = json.dumps(describe(value), default=plain)
        except Exception:
            entry = json.dumps({"kind": "repr", "value": repr(value)})
        entries.append(f"{json.dumps(name)}: {entry}")
    with open(destination, "w", encoding="utf-8") as output:
        output.write("{" + ", ".join(entries) + "}")
'''


def capture_cell(output_names: Sequence[str], run_dir: Path) -> nbformat.NotebookNode:
    """The code cell that writes the outputs' descriptions to `run_dir/CAPTURE_FILE` inside the kernel."""
    call = f"_kg_capture_outputs({list(output_names)!r}, {str(run_dir / CAPTURE_FILE)!r})"
    source = f"{_CAPTURE_FUNCTION}\n{call}\ndel _kg_capture_outputs\n"
    return nbformat.v4.new_code_cell(source, metadata={"tags": [CELL_TAG]})


def collect_outputs(output_names: Sequence[str], run_dir: Path) -> list[OutputValue]:
    """The captured outputs as `OutputValue`s, in `output_names` order; files copied into `outputs/`."""
    captured = json.loads((run_dir / CAPTURE_FILE).read_text(encoding="utf-8"))
    (run_dir / OUTPUTS_DIR).mkdir(exist_ok=True)
    return [_output_value(name, captured[name], run_dir) for name in output_names]


def _output_value(name: str, entry: dict[str, Any], run_dir: Path) -> OutputValue:
    kind, value = entry["kind"], entry["value"]
    if kind == "file":
        copy = Path(OUTPUTS_DIR) / name / Path(entry["path"]).name
        (run_dir / copy).parent.mkdir(exist_ok=True)
        shutil.copyfile(entry["path"], run_dir / copy)
        return OutputValue(name, _file_hash(run_dir / copy), kind, value=value, file=str(copy))
    data = canonical_json(value)
    if len(data) <= INLINE_LIMIT:
        return OutputValue(name, sha256_hash(data), kind, value=value)
    stored = Path(OUTPUTS_DIR) / f"{name}.json"
    (run_dir / stored).write_bytes(data)
    return OutputValue(name, sha256_hash(data), kind, file=str(stored))


def _file_hash(path: Path) -> str:
    with path.open("rb") as content:
        return f"sha256:{hashlib.file_digest(content, 'sha256').hexdigest()}"
