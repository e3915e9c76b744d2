"""The kernel's software environment, read from its own interpreter before any kernel starts."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.runs.environment import environment_fingerprint, kernel_environment


def test_the_python3_kernel_reports_its_python_and_package_versions():
    environment = kernel_environment("python3")
    assert environment["python"] == platform.python_version()
    for package in ("papermill", "numpy", "astropy", "ipykernel"):
        assert environment[package] == importlib.metadata.version(package)
    assert environment["jupyter-client"] == importlib.metadata.version("jupyter_client")
    assert all(name == name.lower() and "_" not in name for name in environment)


def test_the_environment_is_computed_once_and_handed_out_as_a_copy():
    first = kernel_environment("python3")
    first["numpy"] = "0.0"
    started = time.perf_counter()
    again = kernel_environment("python3")
    assert time.perf_counter() - started < 0.05  # asking the interpreter takes ~0.25 s
    assert again["numpy"] == importlib.metadata.version("numpy")


def test_another_kernel_is_asked_through_its_own_interpreter_which_sees_new_installs(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    interpreter = venv / "bin" / "python"
    spec = tmp_path / "jupyter" / "kernels" / "bare"
    spec.mkdir(parents=True)
    argv = [str(interpreter), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "bare", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    assert kernel_environment("bare") == {"python": platform.python_version()}

    site_packages = Path(
        subprocess.run(
            [interpreter, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    dist_info = site_packages / "Foo_Bar-1.2.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.2\n")
    assert kernel_environment("bare") == {"python": platform.python_version(), "foo-bar": "1.2"}


def test_an_unknown_kernel_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no Jupyter kernel named 'nope' \(installed: .*python3"):
        kernel_environment("nope")


def test_the_fingerprint_depends_on_the_versions_not_on_their_order():
    environment = {"python": "3.11.7", "numpy": "2.2.1", "astropy": "7.1.0"}
    fingerprint = environment_fingerprint(environment)
    assert fingerprint.startswith("sha256:") and len(fingerprint) == len("sha256:") + 64
    assert environment_fingerprint(dict(reversed(environment.items()))) == fingerprint
    assert environment_fingerprint({**environment, "numpy": "2.2.2"}) != fingerprint


def test_a_later_process_reads_the_environment_from_disk_without_asking_the_interpreter(
    tmp_path, monkeypatch
):
    from kg.runs import environment

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(environment, "_cache", {})
    first = kernel_environment("python3")
    assert list((tmp_path / "cache" / "oda-kg").glob("kernel-environment-*.json"))

    def no_interpreter(interpreter: str) -> dict:
        raise AssertionError(f"{interpreter} was asked again")

    monkeypatch.setattr(environment, "_cache", {})  # as in a new `kg` process
    monkeypatch.setattr(environment, "_ask_interpreter", no_interpreter)
    assert kernel_environment("python3") == first
