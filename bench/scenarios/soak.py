"""A soak: the notes list at 16 connections for a minute while every worker's RSS is sampled.

A worker whose memory grows under steady traffic leaks (a cache without a
bound, a list that only grows): the target is less than 10 % growth of any
worker over its own RSS at the start of the soak (the workers are warm by
then: every other scenario has run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.harness import RssSampler
from bench.report import Target
from scripts.liveserver import GunicornServer

if TYPE_CHECKING:
    from bench.context import BenchRun

MAX_GROWTH = 0.10


def measure(run: BenchRun, server: GunicornServer) -> None:
    seconds = run.profile["soak_s"]
    with RssSampler(server.worker_pids, interval=0.5) as sampler:
        row = run.load(
            server,
            f"soak: GET /api/notes/ for {seconds} s",
            "/api/notes/",
            "get_auth.lua",
            16,
            run.auth("users"),
            duration=seconds,
            warmup=False,
        )
    growth = {
        pid: (sampler.peak[pid] - sampler.baseline[pid]) / sampler.baseline[pid]
        for pid in sampler.peak
        if sampler.baseline.get(pid)
    }
    run.results.measurements["soak"] = {
        "seconds": seconds,
        "requests": row["requests"],
        "errors": row["errors"],
        "worker_rss_start_mib": {str(pid): round(kib / 1024, 1) for pid, kib in sampler.baseline.items()},
        "worker_rss_peak_mib": {str(pid): round(kib / 1024, 1) for pid, kib in sampler.peak.items()},
        "largest_growth": round(max(growth.values(), default=0), 4),
    }


def targets(run: BenchRun) -> None:
    soak = run.results.measurements.get("soak")
    if soak is None:
        run.results.targets.append(Target("worker RSS growth over the soak", "not measured", "< 10 %", None))
        return
    growth = soak["largest_growth"]
    measured = f"{growth:.1%} (largest of {len(soak['worker_rss_start_mib'])} workers, {soak['seconds']} s)"
    run.results.targets.append(
        Target("worker RSS growth over the soak", measured, "< 10 %", growth < MAX_GROWTH and soak["errors"] == 0)
    )
