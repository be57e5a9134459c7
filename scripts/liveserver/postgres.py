"""PostgreSQL administration for one run: a throwaway database and the runtime role the server uses."""

from __future__ import annotations

import os
import time
import urllib.parse

ADMIN_URL = os.environ.get(
    "LIVESERVER_PG_ADMIN_URL", os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432")
)


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
