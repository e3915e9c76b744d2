"""One run's execution as a picklable job, the unit every executor ships to a process.

The job carries paths and values only; it runs the notebook with the astroquery tracer in the
kernel (`kg.runs.trace`) and returns the `Execution` with the calls the tracer recorded. The
process that submitted it (the only one writing the store) records the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from kg.runs.layout import TRACE_FILE
from kg.runs.model import Execution
from kg.runs.trace import read_trace, tracing_environment


@dataclass(frozen=True)
class Job:
    notebook: str
    values: dict[str, object]
    run_dir: str
    output_names: tuple[str, ...]
    kernel_env: dict[str, str] = field(default_factory=dict, repr=False)
    """Resource credentials: kept out of `repr`, so a logged job shows none."""
    astroquery_timeout_s: float = 60.0
    cell_timeout_s: float | None = None
    kernel_name: str = "python3"
    environment: dict[str, str] | None = None
    """The kernel's software environment the run was planned (and cache-keyed) with."""


def run_job(job: Job) -> Execution:
    """Execute `job` (in whichever process an executor runs it) and attach its astroquery calls."""
    from kg.runs.execute import execute  # papermill, nbclient: imported where jobs run, not by every `kg`

    run_dir = Path(job.run_dir)
    trace = run_dir / TRACE_FILE
    run_dir.mkdir(parents=True, exist_ok=True)
    trace.unlink(missing_ok=True)
    env = {**job.kernel_env, **tracing_environment(trace, timeout_s=job.astroquery_timeout_s)}
    execution = execute(
        Path(job.notebook),
        job.values,
        run_dir,
        output_names=job.output_names,
        env=env,
        timeout_s=job.cell_timeout_s,
        kernel_name=job.kernel_name,
        environment=job.environment,
    )
    return replace(execution, calls=read_trace(trace))
