"""One benchmark run's shared state and the helpers every scenario uses.

``BenchRun`` holds the profile (full or quick), the two databases and their
environments, the users' tokens, the figures later scenarios and the target
table need, and the results; ``load`` is the one measured wrk run of every
scenario.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.harness import cpu_seconds, cpu_used, production_example_env
from bench.load import wrk
from bench.report import Results
from bench.seeding import ADMIN, TOKEN_USERS
from scripts import liveserver
from scripts.liveserver import Database

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SKIPPABLE = frozenset({"notes", "login", "large", "compare"})

PROFILES = {
    "full": {
        "duration": 10,
        "login_duration": 20,
        "warmup": 2,
        "users": 100,
        "notes_per_user": 1000,
        "audit_small": 1_000,
        "audit_large": 1_000_000,
        "sweep": [2, 3, 4, 5, 6],
        "sweep_duration": 6,
        "hash_seconds": 4,
        "audit_rounds": 5,
        "audit_round_s": 2,
        "compare_rounds": 5,
        "soak_s": 60,
    },
    "quick": {
        "duration": 3,
        "login_duration": 5,
        "warmup": 1,
        "users": 20,
        "notes_per_user": 50,
        "audit_small": 1_000,
        "audit_large": 20_000,
        "sweep": [],
        "sweep_duration": 3,
        "hash_seconds": 2,
        "audit_rounds": 3,
        "audit_round_s": 1,
        "compare_rounds": 2,
        "soak_s": 10,
    },
}
# gunicorn.conf.py's own default, used when there is no sweep (--quick) and no --workers.
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1


class BenchRun:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.profile = PROFILES["quick" if args.quick else "full"]
        if args.audit_rows:
            self.profile["audit_large"] = args.audit_rows
        self.started = time.monotonic()
        self.results = Results()
        self.log = RESULTS_DIR / f"bench-{os.getpid()}.log.tmp"
        self.extra_env = dict(item.split("=", 1) for item in args.env)
        secret_key = liveserver.new_secret_key()
        # Two databases: the small audit table, and a copy of it grown to the
        # large size, each with its own server, so that the two sizes can be
        # measured in alternation (slow drifts of the machine cancel out).
        self.db = Database(keep=args.keep_db)
        self.env = production_example_env(self.db.url, secret_key, self.extra_env)
        self.large_db = Database(keep=args.keep_db, suffix="_large")
        self.large_env = production_example_env(self.large_db.url, secret_key, self.extra_env)
        self.workers = args.workers
        self.workers_chosen_by = "--workers" if self.workers else "gunicorn.conf.py default"
        self.skip = set(args.skip)
        if unknown := self.skip - SKIPPABLE:
            raise SystemExit(f"bench: --skip {','.join(sorted(unknown))}: choose from {','.join(sorted(SKIPPABLE))}")
        self.tokens: dict[str, str] = {}
        # Set by the seeding, read by the audit list filters.
        self.actor_id: int | None = None
        self.filter_ip: str | None = None
        # Set by the scenarios, read by the target table.
        self.pbkdf2: dict = {}
        self.chain_after_writes: dict = {}
        self.exports: dict[str, dict] = {}
        self.verify_small: dict = {}
        self.verify_large: dict = {}

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    def phase(self, name: str, started: float) -> None:
        self.results.phases[name] = round(time.monotonic() - started, 1)

    def load(self, server, name, path, script, connections, env=None, record=True, duration=None, db=None, warmup=True):
        """A warm-up, then the measured run; appended to the results when ``record``."""
        url, db = server.base_url + path, db or self.db
        if warmup and self.profile["warmup"]:
            wrk(url, script, connections=connections, duration=self.profile["warmup"], env=env)
        duration = duration or self.profile["duration"]
        app_cpu, db_cpu = cpu_seconds(server.worker_pids()), cpu_seconds(db.backend_pids())
        result = wrk(url, script, connections=connections, duration=duration, env=env)
        app_cpu = cpu_used(app_cpu, cpu_seconds(server.worker_pids()))
        db_cpu = cpu_used(db_cpu, cpu_seconds(db.backend_pids()))
        row = {"name": name, "path": path, **result.as_dict()}
        # CPU per request is what an optimisation changes; unlike rps it hardly
        # moves when something else on the machine competes for the cores.
        row["app_cpu_ms"] = round(app_cpu * 1000 / max(result.requests, 1), 2)
        row["db_cpu_ms"] = round(db_cpu * 1000 / max(result.requests, 1), 2)
        if path.startswith("/api/audit/"):
            row["audit_rows"] = self.audit_rows(db)
        self.say(
            f"{name}: {result.rps:.0f} rps, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"errors {result.errors}, CPU/request: app {row['app_cpu_ms']} ms, PostgreSQL {row['db_cpu_ms']} ms"
        )
        if record:
            self.results.scenarios.append(row)
        return row

    def auth(self, who: str) -> dict[str, str]:
        """wrk's environment for requests as the admin, or as the rotating users."""
        if who == "admin":
            return {"BENCH_TOKENS": self.tokens[ADMIN]}
        return {"BENCH_TOKENS": ",".join(self.tokens[name] for name in TOKEN_USERS)}

    def audit_rows(self, db: Database) -> int:
        return int(db.scalar("SELECT count(*) FROM audit_auditentry"))
