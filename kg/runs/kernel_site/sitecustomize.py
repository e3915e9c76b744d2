"""Start kg's astroquery tracer in a notebook kernel, without touching the notebook.

`kg.runs.trace.tracing_environment` puts this directory first on the kernel's PYTHONPATH, so
Python's `site` imports this module at start-up. It does nothing unless `KG_TRACE_FILE` is set.
The tracer is loaded from its file rather than as `kg.runs.tracer`: the kernel may run a
Python environment where kg is not installed.

This file shadows any `sitecustomize` later on the path (a virtual environment's or the
distribution's), so that one is run too, as Python would have run it.
"""

import importlib.machinery
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _run_shadowed_sitecustomize() -> None:
    path = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _start_tracer() -> None:
    location = os.path.join(os.path.dirname(_HERE), "tracer.py")
    spec = importlib.util.spec_from_file_location("kg_astroquery_tracer", location)
    tracer = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tracer
    spec.loader.exec_module(tracer)
    tracer.install()


_run_shadowed_sitecustomize()
if os.environ.get("KG_TRACE_FILE"):
    _start_tracer()
