"""DevLab as it ships, for one run: its environment, its ``manage.py``, and ``live_devlab``
(database, runtime role, migrations, superuser and gunicorn, all gone afterwards)."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.liveserver.gunicorn import GunicornServer
from scripts.liveserver.paths import LOG_DIR, PYTHON, ROOT
from scripts.liveserver.postgres import Database, RuntimeRole


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
