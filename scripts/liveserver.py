"""The live-server harness: DevLab under gunicorn on a fresh PostgreSQL database.

Shared by the browser tests and schemathesis (``tests/e2e``, ``make e2e``,
``make schemathesis``, ``make screenshots``), the benchmarks (``bench/``) and
the reliability scenarios (``reliability/``). Everything is bounded and local:
the database is created for one run and dropped after it, gunicorn runs the
production command with ``DEBUG=False`` on a free loopback port in a process
group of its own, and every process started is stopped by its own pid whatever
happens (``with``-blocks, ``atexit`` and SIGTERM/SIGINT all end in ``stop_all``).

As a command it runs another command against a live server and stops it after::

    python -m scripts.liveserver -- schemathesis run '$DEVLAB_URL/api/schema/'

The child gets ``DEVLAB_URL`` and the superuser's ``DJANGO_SUPERUSER_USERNAME``
and ``DJANGO_SUPERUSER_PASSWORD`` in its environment.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
ADMIN_URL = os.environ.get(
    "LIVESERVER_PG_ADMIN_URL", os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432")
)
LOG_DIR = ROOT / "test-results" / "liveserver"

#: Every gunicorn started and not yet stopped; ``stop_all`` stops them whatever happens.
RUNNING: list[GunicornServer] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_only(url: str) -> str:
    """Refuses any target but this machine: requests are only ever sent to loopback."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "http" or parsed.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"liveserver: refusing to send requests to {url}; http on loopback only")
    return url


class Database:
    """A PostgreSQL database created for one run and dropped afterwards."""

    def __init__(self, keep: bool = False, suffix: str = "", prefix: str = "devlab_bench"):
        import psycopg  # the project's own PostgreSQL driver

        self._psycopg = psycopg
        self.name = f"{prefix}_{os.getpid()}_{int(time.time())}{suffix}"
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
            print(f"liveserver: keeping database {self.url}")
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


class RuntimeRole:
    """The role the server connects as, as in production: created with a login and no
    password (the local server trusts loopback), given its rights by ``db_runtime_role``
    after ``migrate`` ran as the owner, dropped after its database."""

    def __init__(self, db: Database):
        self._db = db
        self.name = f"{db.name}_app"
        parsed = urllib.parse.urlsplit(db.url)
        netloc = f"{self.name}@{parsed.hostname}" + (f":{parsed.port}" if parsed.port else "")
        self.url = parsed._replace(netloc=netloc).geturl()

    def create(self) -> None:
        with self._db._admin() as conn:
            conn.execute(f'CREATE ROLE "{self.name}" LOGIN')

    def drop(self) -> None:
        """After the database is dropped (which takes the role's rights in it along)."""
        if self._db.keep:
            print(f"liveserver: keeping role {self.name}")
            return
        with self._db._admin() as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{self.name}"')


def app_env(database_url: str, secret_key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every process of a run: production settings, loopback hosts.

    The caller's own DevLab settings (database, cache, throttles, gunicorn, the
    demo app) are not inherited: a run is the same whatever shell it starts
    from. Seeding commands add ``DEVLAB_DEMO=True`` for themselves only.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("GUNICORN_", "THROTTLE_", "DATABASE_URL", "CACHE_URL", "DEBUG", "DEVLAB_DEMO", "DJANGO_SUPERUSER_")
        )
    }
    env.update(
        DATABASE_URL=database_url,
        DEBUG="False",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        PYTHONDONTWRITEBYTECODE="1",
        # Password-reset mail of fuzzed requests goes nowhere (extra may name a catcher).
        EMAIL_URL="dummymail://",
    )
    env.update(extra or {})
    return env


def new_secret_key() -> str:
    return "live-" + secrets.token_urlsafe(48)


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
        raise SystemExit(f"liveserver: manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (Linux /proc), or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def wait_http(url: str, status: int = 200, timeout: float = 60) -> bool:
    """Polls ``url`` (loopback) until it answers ``status``; False after ``timeout``."""
    parsed = urllib.parse.urlparse(loopback_only(url))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
        try:
            connection.request("GET", parsed.path or "/")
            if connection.getresponse().status == status:
                return True
        except (TimeoutError, OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    return False


class GunicornServer:
    """The production command (``gunicorn devlab.wsgi --config gunicorn.conf.py``) on a free
    loopback port, in a process group of its own so that "kill the whole server" is one
    ``killpg`` of exactly the processes started here."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int,
        log: Path,
        *,
        port: int | None = None,
        ready_path: str = "/readyz",
        **overrides,
    ):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = log
        self.ready_path = ready_path
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            # No worker recycling in the middle of a run: memory growth must
            # show and measurements stay comparable. gunicorn's own 30 s timeout
            # stays, as in production.
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
            **{key: str(value) for key, value in overrides.items()},
        }
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 60) -> GunicornServer:
        """Starts gunicorn and returns once ``ready_path`` answers 200 from every worker's master."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as fh:
            self.process = subprocess.Popen(  # stopped by stop(), by its own process group
                [GUNICORN, "devlab.wsgi", "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        RUNNING.append(self)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._forget_if_gone()
                raise RuntimeError(f"gunicorn exited early with {self.process.returncode}; see {self.log}")
            if wait_http(f"{self.base_url}{self.ready_path}", timeout=1) and len(self.worker_pids()) == self.workers:
                return self
        self.kill()
        raise RuntimeError(f"gunicorn did not become ready in {ready_timeout:.0f} s; see {self.log}")

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> list[int]:
        if not self.alive():
            return []
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(pid) for pid in children.split()]

    def wait_workers(self, count: int, exclude: set[int] = frozenset(), timeout: float = 30) -> bool:
        """Waits until ``count`` workers run, none of them in ``exclude`` (killed ones)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = set(self.worker_pids())
            if len(pids) == count and not pids & exclude:
                return True
            time.sleep(0.1)
        return False

    def rss_kib(self) -> dict[int, int]:
        return {pid: value for pid in self.worker_pids() if (value := rss_kib(pid)) is not None}

    def terminate(self, timeout: float = 60) -> int | None:
        """SIGTERM to the master (graceful shutdown); its exit status, or None if it hung."""
        if not self.alive():
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self._forget_if_gone()

    def kill(self) -> None:
        """SIGKILL to the master and every worker (the whole server dies at once)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._forget_if_gone()

    def stop(self) -> None:
        """Graceful stop, then SIGKILL if it has not gone in time; nothing of it is left running."""
        if self.alive() and self.terminate(timeout=40) is None:
            self.kill()
        self.kill()  # any worker left behind in the group

    def _forget_if_gone(self) -> None:
        if self.process is not None and self.process.poll() is not None and self in RUNNING:
            RUNNING.remove(self)

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_all() -> None:
    for server in list(RUNNING):
        server.stop()


atexit.register(stop_all)


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


def sign_up(url: str, username: str, password: str) -> dict:
    """Signs ``username`` up through the API (email ``<username>@example.com``); the new user's JSON."""
    body = {"username": username, "email": f"{username}@example.com", "password": password}
    status, answer = http_json("POST", f"{url}/api/auth/signup/", body)
    if status != 201:
        raise RuntimeError(f"signup of {username} answered {status}: {answer}")
    return answer


def log_in(url: str, username: str, password: str) -> str:
    """Logs ``username`` in through the API; the access token."""
    status, answer = http_json("POST", f"{url}/api/auth/login/", {"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"login of {username} answered {status}: {answer}")
    return answer["access"]


@dataclass(frozen=True)
class LiveDevLab:
    """A running DevLab: its URL, its superuser and where its logs are."""

    url: str
    admin_username: str
    admin_password: str
    database_url: str  # the owner's (for inspection); the server uses env["DATABASE_URL"]
    env: dict[str, str]  # the server's: DATABASE_URL is the runtime role's
    log: Path
    server: GunicornServer
    runtime_role: str


@contextlib.contextmanager
def live_devlab(
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    label: str = "e2e",
    keep_db: bool = False,
) -> Iterator[LiveDevLab]:
    """DevLab as it ships: a fresh PostgreSQL database, ``migrate`` and ``createcachetable``
    as the owner, ``db_runtime_role`` for a runtime role made for the run, ``collectstatic``,
    a superuser from ``DJANGO_SUPERUSER_*`` (generated when unset), gunicorn as the runtime
    role with ``DEBUG=False`` until ``/readyz`` answers; all of it gone afterwards."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{label}-{os.getpid()}.log"
    admin_username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "e2e-admin")
    admin_password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(18)
    db = Database(keep=keep_db, prefix=f"devlab_{label}")
    role = RuntimeRole(db)
    secret_key = new_secret_key()
    owner_env = app_env(db.url, secret_key, extra_env)
    env = app_env(role.url, secret_key, extra_env)
    server: GunicornServer | None = None
    db.create()
    try:
        role.create()
        manage(owner_env, "migrate", "--noinput", log=log)
        manage(owner_env, "createcachetable", log=log)
        manage(owner_env, "db_runtime_role", role.name, log=log)
        manage(env, "collectstatic", "--noinput", "--verbosity", "0", log=log)
        manage(
            {
                **env,
                "DJANGO_SUPERUSER_USERNAME": admin_username,
                "DJANGO_SUPERUSER_PASSWORD": admin_password,
                "DJANGO_SUPERUSER_EMAIL": os.environ.get("DJANGO_SUPERUSER_EMAIL", f"{admin_username}@example.com"),
            },
            "createsuperuser",
            "--noinput",
            log=log,
        )
        server = GunicornServer(env, workers, log)
        with server:
            yield LiveDevLab(server.base_url, admin_username, admin_password, db.url, env, log, server, role.name)
    finally:
        # Only this run's server: a caller may hold another live server (the browser
        # tests' session server while a module starts one of its own).
        if server is not None:
            server.stop()
        try:
            db.drop()
        finally:
            role.drop()


def _stop_on_signal(signum, _frame) -> None:
    stop_all()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a command against DevLab under gunicorn on a fresh PostgreSQL database."
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default="live", help="names the database and the log file")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="a setting for the server")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command (after --); $DEVLAB_URL is set")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required, after --")
    signal.signal(signal.SIGTERM, _stop_on_signal)
    extra_env = dict(item.split("=", 1) for item in args.env)
    with live_devlab(workers=args.workers, label=args.label, extra_env=extra_env) as live:
        print(f"liveserver: DevLab on {live.url} (log {live.log})", flush=True)
        child_env = {
            **os.environ,
            "DEVLAB_URL": live.url,
            "DJANGO_SUPERUSER_USERNAME": live.admin_username,
            "DJANGO_SUPERUSER_PASSWORD": live.admin_password,
        }
        command = [part.replace("$DEVLAB_URL", live.url) for part in command]
        return subprocess.run(command, cwd=ROOT, env=child_env).returncode


if __name__ == "__main__":
    sys.exit(main())
