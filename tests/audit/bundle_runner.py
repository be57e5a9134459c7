"""Runs verify_bundle.py the way an auditor does: a separate process that can import
the standard library and ``cryptography`` (with its dependencies) and nothing else."""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

#: The distributions an auditor installs: cryptography and what it requires.
AUDITOR_DISTRIBUTIONS = ("cryptography", "cffi", "pycparser")


def auditor_path(folder: Path) -> Path:
    """A folder holding links to the auditor's packages only."""
    lib = folder / "auditor-lib"
    if lib.exists():
        return lib
    lib.mkdir(parents=True)
    for name in AUDITOR_DISTRIBUTIONS:
        distribution = importlib.metadata.distribution(name)
        for top in {str(f).split("/")[0] for f in distribution.files or ()}:
            source = Path(distribution.locate_file(top)).resolve()
            if top in {"..", ""} or top.endswith(".dist-info") or not source.exists():
                continue
            os.symlink(source, lib / top)
    return lib


def run_python(folder: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -S`` (no site-packages) with only the auditor's packages on the path."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(auditor_path(folder)), "PYTHONNOUSERSITE": "1"}
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def run_verifier(bundle: Path, *args: str, workdir: Path) -> subprocess.CompletedProcess:
    return run_python(workdir, str(bundle / "verify_bundle.py"), str(bundle), *args, cwd=workdir)
