"""The worker sweep (full runs only): gunicorn with 2..6 workers (gunicorn.conf.py), the best list throughput wins."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from scripts.liveserver import GunicornServer

if TYPE_CHECKING:
    from bench.context import BenchRun


def choose_workers(run: BenchRun) -> None:
    """Picks the worker count with the best authenticated-list throughput."""
    started = time.monotonic()
    rows = []
    seconds = run.profile["sweep_duration"]
    for workers in run.profile["sweep"]:
        with GunicornServer(run.env, workers, run.log) as server:
            health = run.load(
                server, f"healthz w={workers}", "/healthz", "plain.lua", 16, record=False, duration=seconds
            )
            notes = run.load(
                server,
                f"notes list w={workers}",
                "/api/notes/",
                "get_auth.lua",
                16,
                run.auth("users"),
                record=False,
                duration=seconds,
            )
        rows.append(
            {
                "workers": workers,
                "healthz_rps": health["rps"],
                "notes_rps": notes["rps"],
                "notes_p99_ms": notes["p99_ms"],
            }
        )
    run.results.measurements["worker_sweep"] = rows
    best = max(rows, key=lambda row: row["notes_rps"])
    run.workers = best["workers"]
    run.workers_chosen_by = "best GET /api/notes/ rps in the sweep below"
    run.say(f"worker count: {run.workers}")
    run.phase("worker sweep", started)
