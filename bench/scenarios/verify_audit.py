"""``manage.py verify_audit`` in its own process, its RSS sampled all along: at 1k rows while
the servers run, and on the large table after they have stopped."""

from __future__ import annotations

import subprocess
import time
from typing import TYPE_CHECKING

from bench.harness import RssSampler
from bench.report import Target
from scripts import liveserver
from scripts.liveserver import Database

if TYPE_CHECKING:
    from bench.context import BenchRun


def verify_command(run: BenchRun, env: dict[str, str], db: Database) -> dict:
    """``manage.py verify_audit`` in its own process, its RSS sampled all along."""
    started = time.monotonic()
    process = subprocess.Popen(  # bounded by the chain's length; waited for below
        [liveserver.PYTHON, "manage.py", "verify_audit"],
        cwd=liveserver.ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with RssSampler(lambda: [process.pid], interval=0.02) as sampler:
        output, _ = process.communicate(timeout=3600)
    seconds = time.monotonic() - started
    rows = run.audit_rows(db)
    return {
        "rows": rows,
        "ok": process.returncode == 0,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mib": sampler.peak_mib,
        "output": output.strip().splitlines()[-1:] if output else [],
    }


def measure_small(run: BenchRun) -> None:
    """At 1k rows, between the load runs; ``record`` adds it to the measurements."""
    run.verify_small = verify_command(run, run.env, run.db)


def record(run: BenchRun) -> None:
    figures = {"small": run.verify_small}
    if run.verify_large:
        figures["large"] = run.verify_large
    run.results.measurements["verify_audit"] = figures


def measure_large(run: BenchRun) -> None:
    started = time.monotonic()
    run.say(f"verify_audit on {run.audit_rows(run.large_db):,} rows")
    run.verify_large = verify_command(run, run.large_env, run.large_db)
    record(run)
    run.say(f"verify_audit: {run.verify_large['rows_per_s']:,} rows/s, ok={run.verify_large['ok']}")
    run.phase("verify_audit of the large audit table", started)


def targets(run: BenchRun) -> None:
    small, large = run.verify_small, run.verify_large
    growth = round(large["peak_rss_mib"] - small["peak_rss_mib"], 1)
    # The command's own start (Django setup) is in both runs; the difference is the chain.
    marginal = (large["rows"] - small["rows"]) / max(large["seconds"] - small["seconds"], 0.001)
    run.verify_large["rows_per_s_without_start"] = round(marginal)
    run.results.targets.append(
        Target(
            f"verify_audit on {large['rows']:,} rows",
            f"{marginal:,.0f} rows/s ({large['seconds']:.1f} s with the command's start), "
            f"peak RSS {large['peak_rss_mib']} MiB ({growth:+} vs {small['rows']:,} rows)",
            "intact, RSS flat (< 50 MB more than on the small table)",
            large["ok"] and growth < 50,
        )
    )
