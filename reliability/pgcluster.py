"""A throwaway PostgreSQL cluster that the scenarios may stop, restart and fill.

The machine's own PostgreSQL (127.0.0.1:5432) is shared with other people's
tests and is never touched: the scenarios run ``initdb`` into a temporary
directory, start that cluster on a free loopback port (unix socket in the same
directory), restart it with whatever ``max_connections`` a scenario needs,
stop it to play an outage, and remove it at the end.

DevLab connects as ``devlab``, an ordinary role that owns its database, so
PostgreSQL's ``superuser_reserved_connections`` (3) are not its to use, as on
a managed server; the scenarios' own checks connect as the superuser.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

APP_ROLE = "devlab"
SUPERUSER = "postgres"
SUPERUSER_RESERVED = 3


def _bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    if found := shutil.which("initdb"):
        return Path(found).parent
    raise SystemExit("reliability: PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    """One temporary cluster: ``init()``, ``start()``, ``stop()``, ``remove()``."""

    def __init__(self, port: int | None = None):
        self.bindir = _bindir()
        self.port = port or _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="devlab-reliability-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.max_connections = 0
        # initdb and postgres refuse to run as root: as root, they run as postgres.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, user="postgres")

    # ------------------------------------------------------------ lifecycle
    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    def init(self) -> PgCluster:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        return self

    def start(self, max_connections: int = 100) -> None:
        """Starts (or restarts with new settings) and waits until it accepts connections."""
        if self.running():
            self.stop()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            f" -c max_connections={max_connections} -c superuser_reserved_connections={SUPERUSER_RESERVED}"
            " -c shared_buffers=64MB -c log_min_messages=warning"
        )
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self.max_connections = max_connections

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session (their transactions roll back), as a restart does."""
        if self.running():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.init()

    def __exit__(self, *exc) -> None:
        self.remove()

    # ------------------------------------------------------------ databases
    @property
    def app_slots(self) -> int:
        """Connections an ordinary role such as DevLab's may open."""
        return self.max_connections - SUPERUSER_RESERVED

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def app_url(self, database: str) -> str:
        return f"postgres://{APP_ROLE}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.admin_url(database), autocommit=True, connect_timeout=5)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database owned by the app role (a copy of ``template``); returns its DATABASE_URL."""
        copy = f' TEMPLATE "{template}"' if template else ""
        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
            if not exists:
                conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            conn.execute(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}{copy}')
        return self.app_url(name)

    def dump(self, database: str, path: Path) -> None:
        """``pg_dump --format=custom`` of ``database`` (one consistent snapshot)."""
        subprocess.run(
            [str(self.bindir / "pg_dump"), "--format=custom", f"--file={path}", self.admin_url(database)],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def restore(self, path: Path, database: str) -> None:
        """A new database from a dump, as a restore drill does it (``pg_restore --exit-on-error``)."""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        subprocess.run(
            [
                str(self.bindir / "pg_restore"),
                "--exit-on-error",
                "--no-owner",
                f"--dbname={self.admin_url(database)}",
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
