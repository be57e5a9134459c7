"""DevLab side by side with the system it replaces (``../shared/seed-app``).

Both systems run on this machine with 3 worker processes on PostgreSQL, one
after the other, never at the same time: DevLab as the production example
runs it (``gunicorn.conf.py``, Redis as the cache, ``DEBUG=False``), the
original with its own ``serve.sh``. Each system gets one user with the same
20 notes to list and another user to create notes as (so that the listed
notes stay 20: the original's list is not paginated). Rounds alternate which
system goes first; the figures are the medians of the rounds. Beside DevLab,
on its database, a third server measures creates without the audit row
(``bench/without_audit.py``): not a goal, the measured cost of that row.

    .venv/bin/python -m bench.compare [--rounds N] [--duration S]

``make bench`` runs this at its end; without ``../shared/seed-app`` (or
``SEED_APP_DIR_SOURCE``) it says so and skips it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # python bench/compare.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PRODUCTION_CACHE_URL, cpu_seconds, cpu_used, production_example_env
from bench.load import ensure_wrk, wrk
from scripts import liveserver
from scripts.liveserver import Database, GunicornServer, http_json, loopback_only

SEED_APP = Path(os.environ.get("SEED_APP_DIR_SOURCE", liveserver.ROOT.parent / "shared" / "seed-app"))
SEED_APP_PORT = 58091
SEED_APP_DATABASE = "seedapp"  # serve.sh's
WORKERS = 3
CONNECTIONS = 16
NOTES = 20
PASSWORD = "compare-password-5f0b"  # noqa: S105 - throwaway users of throwaway databases
ORIGINAL, DEVLAB = "original (FastAPI)", "DevLab"  # the systems' names in the tables
#: DevLab with its audit append skipped (bench/without_audit.py): creates only, a bound, not a goal.
WITHOUT_AUDIT = "DevLab without its audit row (bound)"
DATABASE_PREFIX = "devlab_compare"  # bench/without_audit.py serves no other database
NOTE_BODY = {"text": "Benchmark note: a short line of text, as people write them."}


@dataclass
class System:
    """One system under test: where its routes are, its users' tokens, its processes."""

    name: str
    base_url: str
    list_path: str
    create_path: str
    list_token: str
    create_token: str
    worker_pids: callable
    database: str
    runs: dict[str, list[dict]] = field(default_factory=lambda: {"list": [], "create": []})


def env_cache(extra_env: dict[str, str] | None) -> str:
    """The cache DevLab runs with: the production example's Redis unless --env says otherwise."""
    return (extra_env or {}).get("CACHE_URL", PRODUCTION_CACHE_URL)


def worker_class(extra_env: dict[str, str] | None) -> str:
    """The gunicorn worker class DevLab runs with: gunicorn.conf.py's unless --env says otherwise."""
    return (extra_env or {}).get("GUNICORN_WORKER_CLASS", "gunicorn.conf.py's worker class (InlineWorker)")


def seed_app_available() -> bool:
    return (SEED_APP / "serve.sh").is_file()


def postgres_backend_pids(database: str) -> list[int]:
    with Database(keep=True, prefix="unused")._admin() as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]).fetchall()
    return [row[0] for row in rows]


def process_group(pgid: int) -> list[int]:
    """The live processes of a process group (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    members.append(int(entry.name))
    return members


def request(method: str, url: str, *, form: dict | None = None, body: dict | None = None, token: str = ""):
    """One request (JSON or form body); (status, decoded JSON)."""
    if form is None:
        return http_json(method, url, body, token=token or None)
    data = urllib.parse.urlencode(form).encode()
    req = urllib.request.Request(loopback_only(url), data=data, method=method)  # noqa: S310 - loopback only
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 - loopback only
        return response.status, json.loads(response.read())


@contextlib.contextmanager
def original_system() -> Iterator[System]:
    """The original system from its own ``serve.sh``: a list user with 20 notes and a writer."""
    serve = SEED_APP / "serve.sh"
    env = {**os.environ, "WORKERS": str(WORKERS)}
    subprocess.run([serve, "stop"], env=env, check=False, capture_output=True)
    started = subprocess.run([serve, "start", str(SEED_APP_PORT)], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        raise SystemExit(f"compare: {serve} start failed:\n{started.stderr[-2000:]}")
    base = f"http://127.0.0.1:{SEED_APP_PORT}"
    pgid = int(Path(os.environ.get("SEED_APP_DIR", "/tmp/seed-app"), "pgid").read_text())  # noqa: S108 - serve.sh's
    try:
        tokens = {}
        for username in ("reader", "writer"):
            request(
                "POST",
                f"{base}/signup",
                body={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            )
            _, answer = request("POST", f"{base}/login", form={"username": username, "password": PASSWORD})
            tokens[username] = answer["access_token"]
        for number in range(NOTES):
            request("POST", f"{base}/notes", body={"text": f"note {number}"}, token=tokens["reader"])
        yield System(
            ORIGINAL,
            base,
            "/notes",
            "/notes",
            tokens["reader"],
            tokens["writer"],
            lambda: [pid for pid in process_group(pgid) if pid != pgid],
            SEED_APP_DATABASE,
        )
    finally:
        subprocess.run([serve, "stop"], env=env, check=False, capture_output=True)


@contextlib.contextmanager
def devlab_system(log: Path, extra_env: dict[str, str] | None = None) -> Iterator[tuple[System, System]]:
    """DevLab on a fresh database, as the production example runs it, with the same users and notes;
    and beside it, on the same database, the bound without the audit row (``bench.without_audit``)."""
    db = Database(prefix=DATABASE_PREFIX)
    env = production_example_env(db.url, liveserver.new_secret_key(), extra_env)
    db.create()
    try:
        liveserver.manage(env, "migrate", "--noinput", log=log)
        with (
            GunicornServer(env, WORKERS, log) as server,
            GunicornServer(env, WORKERS, log, app="bench.without_audit") as bound,
        ):
            base = server.base_url
            tokens = {}
            for username in ("reader", "writer"):
                liveserver.sign_up(base, username, PASSWORD)
                tokens[username] = liveserver.log_in(base, username, PASSWORD)
            for number in range(NOTES):
                http_json("POST", f"{base}/api/notes/", {"text": f"note {number}"}, token=tokens["reader"])
            paths = (f"/api/notes/?page_size={NOTES}", "/api/notes/", tokens["reader"], tokens["writer"])
            yield (
                System(DEVLAB, base, *paths, server.worker_pids, db.name),
                System(WITHOUT_AUDIT, bound.base_url, *paths, bound.worker_pids, db.name),
            )
    finally:
        db.drop()


def measure(system: System, scenario: str, duration: int, warmup: int) -> dict:
    """One wrk run of ``scenario`` (list or create) at 16 connections, with CPU per request."""
    if scenario == "list":
        url, script, env = system.base_url + system.list_path, "get_auth.lua", {"BENCH_TOKENS": system.list_token}
    else:
        url, script = system.base_url + system.create_path, "post_json.lua"
        env = {"BENCH_TOKENS": system.create_token, "BENCH_BODY": json.dumps(NOTE_BODY)}
    if warmup:
        wrk(url, script, connections=CONNECTIONS, duration=warmup, env=env)
    app, db = cpu_seconds(system.worker_pids()), cpu_seconds(postgres_backend_pids(system.database))
    result = wrk(url, script, connections=CONNECTIONS, duration=duration, env=env)
    row = result.as_dict()
    requests = max(result.requests, 1)
    row["app_cpu_ms"] = round(cpu_used(app, cpu_seconds(system.worker_pids())) * 1000 / requests, 2)
    row["db_cpu_ms"] = round(cpu_used(db, cpu_seconds(postgres_backend_pids(system.database))) * 1000 / requests, 2)
    system.runs[scenario].append(row)
    print(
        f"compare: {system.name:<{len(WITHOUT_AUDIT)}} {scenario:<6} {result.rps:7.0f} rps  "
        f"p50 {result.p50_ms:6.1f} ms  "
        f"p99 {result.p99_ms:6.1f} ms  errors {result.errors}  CPU/req app {row['app_cpu_ms']} ms, "
        f"PostgreSQL {row['db_cpu_ms']} ms",
        flush=True,
    )
    return row


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def summary(original: System, devlab: System, *bounds: System) -> dict:
    """Medians per system and scenario, the ratios, and whether the issue's goals are met
    (``bounds``: systems measured for comparison only, in the scenarios they ran)."""
    table = {}
    for scenario in ("list", "create"):
        table[scenario] = {
            system.name: {
                key: median_of(system.runs[scenario], key)
                for key in ("rps", "p50_ms", "p99_ms", "app_cpu_ms", "db_cpu_ms")
            }
            | {"errors": sum(run["errors"] for run in system.runs[scenario]), "rounds": len(system.runs[scenario])}
            for system in (original, devlab, *bounds)
            if system.runs[scenario]
        }
    mine, theirs = table["list"][devlab.name], table["list"][original.name]
    made, made_before = table["create"][devlab.name], table["create"][original.name]
    goals = {
        "list rps >= 2x the original": round(mine["rps"] / theirs["rps"], 2),
        "list p99 <= the original's": mine["p99_ms"] <= theirs["p99_ms"],
        "create rps >= 2x the original": round(made["rps"] / made_before["rps"], 2),
    }
    met = {
        "list rps >= 2x the original": goals["list rps >= 2x the original"] >= 2,
        "list p99 <= the original's": goals["list p99 <= the original's"],
        "create rps >= 2x the original": goals["create rps >= 2x the original"] >= 2,
    }
    return {"table": table, "goals": goals, "met": met}


def markdown(result: dict) -> str:
    """The side-by-side table as Markdown."""
    lines = [
        f"## Side by side with the original system ({CONNECTIONS} connections, {WORKERS} workers each, "
        f"{result['rounds']} alternating rounds of {result['duration_s']} s, medians)",
        "",
        "| scenario | system | rps | p50 ms | p99 ms | errors | app CPU ms/req | DB CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"list": f"list {NOTES} notes", "create": "create a note (+ audit row)"}
    for scenario, systems in result["table"].items():
        for name, row in systems.items():
            lines.append(
                f"| {labels[scenario]} | {name} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                f"{row['errors']} | {row['app_cpu_ms']} | {row['db_cpu_ms']} |"
            )
    lines += ["", "| goal | measured | verdict |", "|---|---|---|"]
    for goal, value in result["goals"].items():
        shown = f"{value}x" if isinstance(value, float) else str(value)
        lines.append(f"| {goal} | {shown} | {'met' if result['met'][goal] else 'NOT MET'} |")
    if shortfalls := cpu_shortfalls(result):
        lines += ["", "Why a 2x goal is not met, from the CPU columns above:", ""]
        lines += [f"- {line}" for line in shortfalls]
    return "\n".join(lines) + "\n"


def cpu_shortfalls(result: dict) -> list[str]:
    """For each rps goal not met, what a request costs and what 2x would need it to cost.

    A system's rps is the CPU it keeps busy (its workers and PostgreSQL, in
    cores) divided by the CPU one request costs. The original may leave part
    of the machine idle; DevLab keeps what it keeps busy, so 2x the
    original's rps needs a request to cost at most DevLab's busy cores over
    that rps.
    """
    lines = []
    for scenario in ("list", "create"):
        if result["met"][f"{scenario} rps >= 2x the original"]:
            continue
        systems = result["table"][scenario]
        original, devlab = systems[ORIGINAL], systems[DEVLAB]
        theirs = original["app_cpu_ms"] + original["db_cpu_ms"]
        mine = devlab["app_cpu_ms"] + devlab["db_cpu_ms"]
        busy = devlab["rps"] * mine / 1000
        goal_rps = 2 * original["rps"]
        allowed = 1000 * busy / goal_rps
        lines.append(
            f"{scenario}: DevLab served {devlab['rps']:.0f} rps at {mine:.2f} ms of CPU each "
            f"({devlab['app_cpu_ms']} in the workers, {devlab['db_cpu_ms']} in PostgreSQL), {busy:.2f} cores busy; "
            f"the original {original['rps']:.0f} rps at {theirs:.2f} ms ({original['app_cpu_ms']} and "
            f"{original['db_cpu_ms']}), {original['rps'] * theirs / 1000:.2f} cores. "
            f"{goal_rps:.0f} rps on {busy:.2f} cores needs at most {allowed:.2f} ms a request: "
            f"{mine - allowed:.2f} ms ({(mine - allowed) / mine:.0%}) less than DevLab spends "
            '(bench/README.md, "Why 2x is not reached reliably").'
        )
        if (bound := systems.get(WITHOUT_AUDIT)) is not None:
            spared = bound["app_cpu_ms"] + bound["db_cpu_ms"]
            lines.append(
                f"{scenario} without its audit row (bench/without_audit.py: DevLab with the append skipped, "
                f"on the same database): {bound['rps']:.0f} rps, {bound['rps'] / original['rps']:.2f}x the "
                f"original, at {spared:.2f} ms of CPU each ({bound['app_cpu_ms']} and {bound['db_cpu_ms']}). "
                f"The audit row (chain lock and head, HMAC, insert, mirror line, metrics) costs "
                f"{mine - spared:.2f} ms of CPU and {1 - devlab['rps'] / bound['rps']:.0%} of the creates a second."
            )
    return lines


def run(rounds: int, duration: int, warmup: int, log: Path, extra_env: dict[str, str] | None = None) -> dict | None:
    """The whole comparison; None (with a message) when the original system is not here."""
    if not seed_app_available():
        print(f"compare: skipped: the original system is not at {SEED_APP} (set SEED_APP_DIR_SOURCE)", flush=True)
        return None
    ensure_wrk()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with original_system() as original, devlab_system(log, extra_env) as (devlab, without_audit):
        # Only the system being measured works: the others idle between its runs.
        systems = (original, devlab, without_audit)
        for round_ in range(rounds):
            for system in systems if round_ % 2 == 0 else reversed(systems):
                for scenario in ("create",) if system is without_audit else ("list", "create"):
                    measure(system, scenario, duration, warmup if round_ == 0 else 1)
        result = summary(original, devlab, without_audit)
    result.update(
        rounds=rounds,
        duration_s=duration,
        load_before=load_before,
        load_after=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        configuration=(
            f"DevLab: gunicorn.conf.py ({WORKERS} workers, {worker_class(extra_env)}, its threads and keep-alive), "
            "PostgreSQL, "
            f"cache {env_cache(extra_env)}, DEBUG=False; "
            f"original: serve.sh (uvicorn, {WORKERS} workers), PostgreSQL"
        ),
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra DevLab setting")
    args = parser.parse_args(argv)
    log = liveserver.LOG_DIR / f"compare-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    extra = dict(item.split("=", 1) for item in args.env)
    result = run(args.rounds, args.duration, args.warmup, log, extra)
    if result is None:
        return 0
    print()
    print(f"Load average before/after: {result['load_before']} / {result['load_after']}")
    print(result["configuration"])
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
