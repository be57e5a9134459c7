"""The live-server harness: DevLab under gunicorn on a fresh PostgreSQL database.

Shared by the browser tests and schemathesis (``tests/e2e``, ``make e2e``,
``make schemathesis``, ``make screenshots``), the benchmarks (``bench/``) and
the reliability scenarios (``reliability/``). Everything is bounded and local:
the database is created for one run and dropped after it, gunicorn runs the
production command with ``DEBUG=False`` on a free loopback port in a process
group of its own, and every process started is stopped by its own pid whatever
happens (``with``-blocks, ``atexit`` and SIGTERM/SIGINT all end in ``stop_all``).

One module per job; this package re-exports their public names, so callers
write ``from scripts.liveserver import live_devlab``:

- ``paths``: ``ROOT``, ``PYTHON``, ``GUNICORN``, ``LOG_DIR``;
- ``postgres``: ``Database`` and ``RuntimeRole`` (PostgreSQL administration);
- ``gunicorn``: ``GunicornServer``, ``wait_http``, ``free_port``, ``rss_kib``,
  ``RUNNING``, ``stop_all``;
- ``client``: ``http_json``, ``sign_up``, ``log_in``, ``loopback_only``;
- ``devlab``: ``app_env``, ``manage``, ``new_secret_key``, ``live_devlab``;
- ``cli``: ``python -m scripts.liveserver -- COMMAND ...``.
"""

from scripts.liveserver.cli import main
from scripts.liveserver.client import http_json, log_in, loopback_only, sign_up
from scripts.liveserver.devlab import LiveDevLab, app_env, live_devlab, manage, new_secret_key
from scripts.liveserver.gunicorn import RUNNING, GunicornServer, free_port, rss_kib, stop_all, wait_http
from scripts.liveserver.paths import GUNICORN, LOG_DIR, PYTHON, ROOT
from scripts.liveserver.postgres import ADMIN_URL, Database, RuntimeRole

__all__ = [
    "ADMIN_URL",
    "GUNICORN",
    "LOG_DIR",
    "PYTHON",
    "ROOT",
    "RUNNING",
    "Database",
    "GunicornServer",
    "LiveDevLab",
    "RuntimeRole",
    "app_env",
    "free_port",
    "http_json",
    "live_devlab",
    "log_in",
    "loopback_only",
    "main",
    "manage",
    "new_secret_key",
    "rss_kib",
    "sign_up",
    "stop_all",
    "wait_http",
]
