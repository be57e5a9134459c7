"""The bench a scenario runs on, and the row it reports.

``Lab`` owns the throwaway PostgreSQL cluster and a migrated template
database; each scenario gets a fresh copy of it (``CREATE DATABASE ...
TEMPLATE``, a second or so) so that its counts are its own.
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.harness import app_env
from reliability import checks
from reliability.client import Client, Ledger
from reliability.metrics import RECORDER
from reliability.pgcluster import PgCluster
from scripts.liveserver import manage

ADMIN_USERNAME = "reladmin"
TEMPLATE_DB = "devlab_template"
DEFAULT_MAX_CONNECTIONS = 100


@dataclass
class Result:
    """One row of the report; ``problems`` non-empty means the scenario failed."""

    name: str
    sent: int = 0
    ok_2xx: int = 0
    client_4xx: int = 0
    server_5xx: int = 0
    no_answer: int = 0
    acknowledged: int = 0
    found: int = 0
    chain: str = "-"
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, ledger: Ledger) -> None:
        counts = ledger.counts()
        self.sent += counts["sent"]
        self.ok_2xx += counts["2xx"]
        self.client_4xx += counts["4xx"]
        self.server_5xx += counts["5xx"]
        self.no_answer += counts["err"]

    def require(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


class Scene:
    """One scenario's database, environment and admin, on the lab's cluster."""

    def __init__(self, lab: Lab, name: str, **extra_env: str):
        self.lab = lab
        self.name = name
        self.database = f"devlab_{name.replace('-', '_')}"
        self.url = lab.cluster.create_database(self.database, template=TEMPLATE_DB)
        self.env = app_env(self.url, lab.secret_key, {k: str(v) for k, v in extra_env.items()})
        self.ledger = Ledger()

    def log(self, what: str) -> Path:
        return self.lab.logdir / f"{self.name}-{what}.log"

    def client(self, base_url: str, source: str | None = None) -> Client:
        return Client(base_url, self.ledger, self.name, source=source)

    def admin_token(self, client: Client) -> str:
        record = client.request(
            "admin_login", "POST", "/api/auth/login/", {"username": ADMIN_USERNAME, "password": self.lab.admin_password}
        )
        if not record.ok:
            raise RuntimeError(f"admin login failed: {record.status} {record.error}")
        return record.json["access"]

    def db(self) -> psycopg.Connection:
        return self.lab.cluster.connect(self.database)

    def audit_result(self, result: Result, *, ledger: Ledger | None = None, in_doubt=None) -> None:
        """Counts, lost or half-written writes, and the chain, into ``result``."""
        ledger = ledger or self.ledger
        result.count(ledger)
        with self.db() as conn:
            writes = checks.check_writes(conn, ledger, in_doubt)
            result.problems.extend(writes.problems)
            result.problems.extend(checks.check_consistency(conn))
        result.acknowledged += writes.acknowledged
        result.found += writes.found
        if writes.unknown:
            result.notes.append(
                f"{writes.unknown} write(s) without an answer from DevLab: {writes.unknown_committed} had "
                "committed whole, the rest left nothing"
            )
        if writes.in_doubt_committed:
            result.notes.append(
                f"{writes.in_doubt_committed} write(s) in flight at the crash were answered 503 although their "
                "COMMIT had reached PostgreSQL (in doubt): found whole, note and audit row together"
            )
        ok, summary = checks.verify_chain(self.env)
        result.chain = "ok" if ok else "BROKEN"
        if not ok:
            result.problems.append(f"verify_audit: {summary}")
        else:
            result.notes.append(summary)


class Lab:
    """The cluster, the template database (migrated, with an admin) and the run's logs."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.secret_key = "reliability-" + secrets.token_urlsafe(40)
        self.admin_password = secrets.token_urlsafe(18)
        self.cluster = PgCluster()

    def __enter__(self) -> Lab:
        self.cluster.init()
        self.cluster.start(max_connections=DEFAULT_MAX_CONNECTIONS)
        url = self.cluster.create_database(TEMPLATE_DB)
        env = app_env(url, self.secret_key)
        manage(env, "migrate", "--noinput", log=self.logdir / "setup.log")
        manage(
            {
                **env,
                "DJANGO_SUPERUSER_USERNAME": ADMIN_USERNAME,
                "DJANGO_SUPERUSER_EMAIL": "reladmin@example.com",
                "DJANGO_SUPERUSER_PASSWORD": self.admin_password,
            },
            "createsuperuser",
            "--noinput",
            log=self.logdir / "setup.log",
        )
        return self

    def __exit__(self, *exc) -> None:
        self.cluster.remove()

    def restart_postgres(self, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.cluster.start(max_connections=max_connections)
        self.cluster.wait_ready()


def elapsed(started: float) -> float:
    return round(time.monotonic() - started, 1)


def scenario(name: str):
    """Makes ``body(result, *args)`` a scenario: it gets a fresh ``Result(name)`` to fill
    in, and the caller gets that result back with the time the body took. The servers'
    metrics scraped meanwhile are filed under ``name`` (reliability/metrics.py)."""

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs) -> Result:
            started = time.monotonic()
            result = Result(name)
            with RECORDER.scenario(name):
                body(result, *args, **kwargs)
            result.seconds = elapsed(started)
            return result

        return run

    return decorate
