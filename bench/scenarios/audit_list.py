"""The audit list, unfiltered and filtered by action, actor and IP, on the small and the large
table in alternating rounds; the target is a flat p50 from 1k to 1M rows."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from bench.report import Target
from bench.seeding import ADMIN
from scripts.liveserver import Database, GunicornServer

if TYPE_CHECKING:
    from bench.context import BenchRun

AUDIT_FILTERS = {
    "": "all",
    "?action=note_created": "action",
    "?actor={actor}": "actor",
    "?ip={ip}": "ip",
}


def path(run: BenchRun, query: str) -> str:
    return "/api/audit/logs/" + query.format(actor=run.actor_id, ip=run.filter_ip)


def query_requests(run: BenchRun) -> list[dict]:
    return [
        {"name": f"audit list {label}", "method": "GET", "path": path(run, query), "token": run.tokens[ADMIN]}
        for query, label in AUDIT_FILTERS.items()
    ]


def measure(run: BenchRun, sites: list[tuple[GunicornServer, Database]], queries: dict) -> None:
    """Each audit list on every table size, in alternating rounds.

    One connection: p50 is then the request's own time, not time queued
    behind other requests, which is what "flat from 1k to 1M" is about.
    Rounds alternate between the sizes, and each size's p50 is the median
    of its rounds, so that the machine drifting in between does not
    decide the ratio.
    """
    rounds = run.profile["audit_rounds"]
    for query, label in AUDIT_FILTERS.items():
        runs: dict[int, list[dict]] = {index: [] for index in range(len(sites))}
        for round_ in range(rounds):
            for index, (server, db) in enumerate(sites):
                runs[index].append(
                    run.load(
                        server,
                        f"audit list {label} @{run.audit_rows(db):,} round {round_ + 1}",
                        path(run, query),
                        "get_auth.lua",
                        1,
                        run.auth("admin"),
                        record=False,
                        duration=run.profile["audit_round_s"],
                        db=db,
                        warmup=round_ == 0,
                    )
                )
        for rows in runs.values():
            middle = sorted(rows, key=lambda row: row["p50_ms"])[len(rows) // 2]  # the median round
            requests = sum(row["requests"] for row in rows)
            combined = {
                **middle,
                "name": f"audit list {label} @{middle['audit_rows']:,}",
                "requests": requests,
                "rps": round(requests / sum(row["duration_s"] for row in rows), 1),
                "errors": sum(row["errors"] for row in rows),
                "p50_rounds_ms": [row["p50_ms"] for row in rows],
                "app_cpu_ms": round(sum(r["app_cpu_ms"] * r["requests"] for r in rows) / requests, 2),
                "db_cpu_ms": round(sum(r["db_cpu_ms"] * r["requests"] for r in rows) / requests, 2),
                "queries": queries.get(f"audit list {label}"),
            }
            run.results.scenarios.append(combined)


def targets(run: BenchRun) -> None:
    for label in AUDIT_FILTERS.values():
        rows = [s for s in run.results.scenarios if s["name"].startswith(f"audit list {label} @")]
        small, large = rows[0], rows[-1]
        # Each round's two sizes ran back to back: the median of their ratios
        # is what the machine's drift over the whole run cannot move.
        pairs = zip(large["p50_rounds_ms"], small["p50_rounds_ms"], strict=True)
        ratio = statistics.median(big / little for big, little in pairs)
        run.results.targets.append(
            Target(
                f"GET /api/audit/logs/ ({label}) p50 {large['audit_rows']:,} vs {small['audit_rows']:,} rows",
                f"{ratio:.2f}x (median p50 {large['p50_ms']:.1f} / {small['p50_ms']:.1f} ms)",
                "<= 1.2x",
                ratio <= 1.2,
            )
        )
