"""The system under test: a fresh PostgreSQL database and gunicorn on loopback.

Everything here is bounded and local: the database is created for one run and
dropped after it, gunicorn listens on 127.0.0.1 on a free port, and every
process started is stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432")
# Throttles stay in the request path (their cache reads and writes are part of
# the cost being measured) but with rates no benchmark reaches. Per second:
# DRF keeps every request time of the window in the cache entry, so a
# one-minute window at a thousand requests a second would read and write a
# 60,000-entry list on each request, which no real user's history is.
UNREACHABLE_RATE = "1000000/s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_only(url: str) -> str:
    """Refuses any target but this machine: load is only ever sent to loopback."""
    parsed = urllib.request.urlparse(url)
    if parsed.scheme != "http" or parsed.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"bench: refusing to send load to {url}; http on loopback only")
    return url


class Database:
    """A PostgreSQL database created for one run and dropped afterwards."""

    def __init__(self, keep: bool = False, suffix: str = ""):
        import psycopg  # the project's own PostgreSQL driver

        self._psycopg = psycopg
        self.name = f"devlab_bench_{os.getpid()}_{int(time.time())}{suffix}"
        self.url = f"{ADMIN_URL}/{self.name}"
        self.keep = keep

    def _admin(self):
        return self._psycopg.connect(f"{ADMIN_URL}/postgres", autocommit=True)

    def create(self, template: Database | None = None) -> None:
        """An empty database, or a copy of ``template`` (which nobody may be connected to)."""
        copy = f' TEMPLATE "{template.name}"' if template else ""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"{copy}')

    def drop(self) -> None:
        if self.keep:
            print(f"bench: keeping database {self.url}")
            return
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def scalar(self, sql: str):
        with self._psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql).fetchone()[0]

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving this database (the workers' connections)."""
        with self._psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return [row[0] for row in rows]

    def server_version(self) -> str:
        return str(self.scalar("SHOW server_version"))


def app_env(database_url: str, secret_key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every process of the run: production settings, loopback hosts."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN_", "THROTTLE_", "DATABASE_URL", "CACHE_URL", "DEBUG"))
    }
    env.update(
        DATABASE_URL=database_url,
        DEBUG="False",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        THROTTLE_ANON=UNREACHABLE_RATE,
        THROTTLE_USER=UNREACHABLE_RATE,
        THROTTLE_LOGIN=UNREACHABLE_RATE,
        ACCESS_TOKEN_MINUTES="60",  # noqa: S106 - a lifetime, not a password
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra or {})
    return env


def new_secret_key() -> str:
    return "bench-" + secrets.token_urlsafe(48)


def manage(env: dict[str, str], *args: str, log: Path | None = None, check: bool = True) -> str:
    """Runs ``manage.py`` with the run's environment; returns its stdout."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if log is not None:
        with log.open("a") as fh:
            fh.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if check and result.returncode != 0:
        raise SystemExit(f"bench: manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (Linux /proc); gone ones are left out."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two ``cpu_seconds`` snapshots; a process that started
    in between counts whole (PostgreSQL backends come and go with CONN_MAX_AGE)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (Linux /proc), or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


@dataclass
class RssSampler:
    """Samples the RSS of some processes every ``interval`` seconds in a thread."""

    pids: callable
    interval: float = 0.05
    baseline: dict[int, int] = field(default_factory=dict)
    peak: dict[int, int] = field(default_factory=dict)

    def __enter__(self) -> RssSampler:
        self._stop = threading.Event()
        for pid in self.pids():
            if (value := rss_kib(pid)) is not None:
                self.baseline[pid] = self.peak[pid] = value
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for pid in self.pids():
                if (value := rss_kib(pid)) is not None:
                    self.baseline.setdefault(pid, value)
                    self.peak[pid] = max(self.peak.get(pid, 0), value)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        """The largest growth of any one process over its own starting RSS."""
        growth = [self.peak[pid] - self.baseline[pid] for pid in self.peak if pid in self.baseline]
        return round(max(growth, default=0) / 1024, 1)

    @property
    def peak_mib(self) -> float:
        return round(max(self.peak.values(), default=0) / 1024, 1)


class GunicornServer:
    """gunicorn (sync workers, the project's gunicorn.conf.py) on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int, log: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = log
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            # gunicorn's own 30 s timeout stays: a sync worker streaming an
            # export is killed when the one request outlives it, and the
            # 1M-row export has to finish within it, as it would in production.
            # No worker recycling in the middle of a measurement.
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> GunicornServer:
        with self.log.open("ab") as fh:
            self.process = subprocess.Popen(  # stopped by stop(), by its own pid
                [GUNICORN, "devlab.wsgi", "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bench: gunicorn exited early; see {self.log}")
            with contextlib.suppress(OSError):
                status, _ = http_json("GET", f"{self.base_url}/readyz")
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return self
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"bench: gunicorn did not become ready; see {self.log}")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def http_json(method: str, url: str, body: dict | None = None, token: str | None = None, timeout: float = 120):
    """One request with urllib; returns (status, decoded JSON or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(loopback_only(url), data=data, method=method)  # noqa: S310 - http, loopback
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def stream_lines(url: str, token: str, timeout: float = 600) -> tuple[int, int, int]:
    """Downloads a streamed response, discarding it; returns (status, lines, bytes)."""
    request = urllib.request.Request(loopback_only(url))  # noqa: S310 - http, loopback
    request.add_header("Authorization", f"Bearer {token}")
    lines = size = 0
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
        return response.status, lines, size
