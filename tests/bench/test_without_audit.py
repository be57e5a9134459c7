"""bench/without_audit.py, DevLab with its audit append skipped, serves no database but a compare one."""

import subprocess
import sys

import pytest

from scripts.liveserver.paths import ROOT


def _import_without_audit(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import bench.without_audit"],
        cwd=ROOT,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://postgres@127.0.0.1:5432/devlab",
        "postgres://postgres@127.0.0.1:5432/devlab_bench_1_2",
        "sqlite:////tmp/devlab_compare_1_2.sqlite3",
        "",
    ],
)
def test_it_refuses_to_start_on_any_other_database(database_url):
    started = _import_without_audit(database_url)

    assert started.returncode == 1
    assert "serves only a devlab_compare_* database of bench.compare" in started.stderr
