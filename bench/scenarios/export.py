"""The large audit table exported as CSV and as JSONL while the workers' RSS is sampled every 50 ms."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench.harness import RssSampler, stream_lines
from bench.report import Target
from bench.seeding import ADMIN
from scripts.liveserver import GunicornServer

if TYPE_CHECKING:
    from bench.context import BenchRun

FORMATS = ("csv", "jsonl")


def stream_export(run: BenchRun, server: GunicornServer, fmt: str) -> dict:
    """One export downloaded and discarded: its rows, size, rate and the workers' RSS growth."""
    url = f"{server.base_url}/api/audit/logs/export/?format={fmt}"
    with RssSampler(server.worker_pids) as sampler:
        started = time.monotonic()
        status, lines, size = stream_lines(url, run.tokens[ADMIN])
        seconds = time.monotonic() - started
    rows = lines - 1 if fmt == "csv" else lines  # the CSV header line
    result = {
        "status": status,
        "rows": rows,
        "mib": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "worker_rss_growth_mib": sampler.growth_mib,
        "worker_peak_rss_mib": sampler.peak_mib,
    }
    run.say(f"export {fmt}: {rows:,} rows in {seconds:.1f} s, worker RSS growth {sampler.growth_mib} MiB")
    return result


def measure(run: BenchRun, server: GunicornServer) -> None:
    started = time.monotonic()
    run.exports = {fmt: stream_export(run, server, fmt) for fmt in FORMATS}
    run.results.measurements["export"] = run.exports
    run.phase("exports of the large audit table", started)


def targets(run: BenchRun) -> None:
    """Complete and flat in memory; run after verify_audit, whose row count is the whole table."""
    for fmt, result in run.exports.items():
        complete = result["status"] == 200 and result["rows"] >= run.verify_large["rows"] - 1
        run.results.targets.append(
            Target(
                f"export {fmt} of {result['rows']:,} rows",
                f"{result['rows_per_s']:,} rows/s, RSS +{result['worker_rss_growth_mib']} MiB",
                "all rows, RSS growth < 50 MB",
                complete and result["worker_rss_growth_mib"] < 50,
            )
        )
