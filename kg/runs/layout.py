"""What a run's directory holds, by name: shared by the code that writes each entry and the code
that reads it (the service watching a job, `kg test-notebooks` linking a notebook's neighbours)."""

from __future__ import annotations

CONTEXT_FILE = ".oda_api_context"
"""oda_api's context: the progress callback (`kg.runs.progress`). Written when the job starts."""
PROGRESS_FILE = ".oda_api_progress.json"
"""The notebook's latest progress report, where the callback points."""
CAPTURE_FILE = ".kg_outputs.json"
"""The outputs as the capture cell described them inside the kernel (`kg.runs.outputs`)."""
OUTPUTS_DIR = "outputs"
"""Output files, and outputs too large to keep in the graph."""
TRACE_FILE = ".kg-astroquery-trace.jsonl"
"""The tracer's record of the run's astroquery calls (`kg.runs.tracer`)."""
KERNEL_LOG = "kernel.log"
"""The kernel process's own stdout and stderr."""
