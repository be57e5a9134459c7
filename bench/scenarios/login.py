"""Logins against their ceiling: Django's PBKDF2 hasher measured with no server running, then
``POST /api/auth/login/`` at 4 connections."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench.context import DEFAULT_WORKERS
from bench.load import pbkdf2_ceiling
from bench.report import Target
from bench.seeding import DEMO_PASSWORD, LOGIN_USERS
from scripts.liveserver import GunicornServer

if TYPE_CHECKING:
    from bench.context import BenchRun

QUERY_REQUESTS = [
    {
        "name": "login",
        "method": "POST",
        "path": "/api/auth/login/",
        "body": {"username": LOGIN_USERS[0], "password": DEMO_PASSWORD},
    },
]


def measure_ceiling(run: BenchRun) -> None:
    started = time.monotonic()
    run.say("measuring the PBKDF2 ceiling (no server running)")
    run.pbkdf2 = pbkdf2_ceiling(run.workers or DEFAULT_WORKERS, run.profile["hash_seconds"])
    run.results.measurements["pbkdf2"] = run.pbkdf2
    run.say(
        f"PBKDF2 ({run.pbkdf2['iterations']:,} iterations): {run.pbkdf2['hashes_per_s_one_process']}/s "
        f"in one process, {run.pbkdf2['hashes_per_s_parallel']}/s in {run.pbkdf2['processes']}"
    )
    run.phase("PBKDF2 ceiling", started)


def measure(run: BenchRun, server: GunicornServer, queries: dict) -> None:
    login_env = {"BENCH_USERNAMES": ",".join(LOGIN_USERS), "BENCH_PASSWORD": DEMO_PASSWORD}
    # Few connections: a login costs one PBKDF2 hash (a third of a second of
    # CPU), so more would only queue behind the workers into wrk's timeout.
    login = run.load(
        server,
        "POST /api/auth/login/",
        "/api/auth/login/",
        "login.lua",
        4,
        login_env,
        duration=run.profile["login_duration"],
    )
    login["queries"] = queries.get("login")


def targets(run: BenchRun) -> None:
    login = run.results.scenario("POST /api/auth/login/")
    if login:
        ceiling = run.pbkdf2["hashes_per_s_parallel"]
        ratio = login["rps"] / ceiling
        measured = f"{ratio:.0%} ({login['rps']:.1f} of {ceiling:.1f}/s)"
        target = Target("POST /api/auth/login/ vs PBKDF2 ceiling", measured, ">= 90 %", ratio >= 0.90)
    else:
        target = Target("POST /api/auth/login/ vs PBKDF2 ceiling", "not measured", ">= 90 %", None)
    run.results.targets.append(target)
