"""The notes API: the list at 16 connections, note writes at 64 and the audit chain after them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from bench.report import Target
from bench.seeding import ADMIN, USER
from scripts.liveserver import GunicornServer, http_json

if TYPE_CHECKING:
    from bench.context import BenchRun

NOTE_BODY = {"text": "Benchmark note: a short line of text, as people write them."}


def query_requests(run: BenchRun) -> list[dict]:
    return [
        {"name": "notes list", "method": "GET", "path": "/api/notes/", "token": run.tokens[USER]},
        {
            "name": "notes create",
            "method": "POST",
            "path": "/api/notes/",
            "token": run.tokens[USER],
            "body": NOTE_BODY,
        },
    ]


def measure_list(run: BenchRun, server: GunicornServer, queries: dict) -> None:
    notes = run.load(server, "GET /api/notes/", "/api/notes/", "get_auth.lua", 16, run.auth("users"))
    notes["queries"] = queries.get("notes list")


def measure_create(run: BenchRun, server: GunicornServer, queries: dict) -> None:
    body = {"BENCH_BODY": json.dumps(NOTE_BODY), **run.auth("users")}
    create = run.load(server, "POST /api/notes/", "/api/notes/", "post_json.lua", 64, body)
    create["queries"] = queries.get("notes create")
    check_chain(run, server)


def check_chain(run: BenchRun, server: GunicornServer) -> None:
    """The chain verifies after concurrent writers (``GET /api/audit/verify/``)."""
    status, verdict = http_json("GET", f"{server.base_url}/api/audit/verify/", token=run.tokens[ADMIN])
    run.chain_after_writes = verdict if status == 200 else {"ok": False, "status": status}
    run.say(f"chain after the writes: {run.chain_after_writes}")


def targets(run: BenchRun) -> None:
    r, t = run.results, run.results.targets
    health, notes, create = r.scenario("GET /healthz"), r.scenario("GET /api/notes/"), r.scenario("POST /api/notes/")
    if notes:
        ratio = notes["rps"] / health["rps"]
        t.append(Target("GET /api/notes/ vs /healthz rps", f"{ratio:.0%}", ">= 25 %", ratio >= 0.25))
        p99 = notes["p99_ms"]
        t.append(Target("GET /api/notes/ p99 at 16 conns", f"{p99:.1f} ms", "< 50 ms", p99 < 50))
    else:
        t.append(Target("GET /api/notes/ vs /healthz rps", "not measured", ">= 25 %", None))
        t.append(Target("GET /api/notes/ p99 at 16 conns", "not measured", "< 50 ms", None))
    if create:
        ratio = create["rps"] / notes["rps"]
        t.append(Target("POST /api/notes/ vs list rps", f"{ratio:.0%}", ">= 40 %", ratio >= 0.40))
        t.append(Target("POST /api/notes/ errors at 64 conns", str(create["errors"]), "0", create["errors"] == 0))
        ok = bool(run.chain_after_writes.get("ok"))
        checked = run.chain_after_writes.get("checked", "?")
        t.append(Target("audit chain after the writes", f"ok={ok} ({checked} rows)", "verifies", ok))
    else:
        t.append(Target("POST /api/notes/ vs list rps", "not measured", ">= 40 %", None))
        t.append(Target("POST /api/notes/ errors at 64 conns", "not measured", "0", None))
        t.append(Target("audit chain after the writes", "not measured", "verifies", None))
