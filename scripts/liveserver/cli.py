"""The command line: runs a command against a live DevLab and stops it after::

    python -m scripts.liveserver -- schemathesis run '$DEVLAB_URL/api/schema/'

The child gets ``DEVLAB_URL`` and the superuser's ``DJANGO_SUPERUSER_USERNAME``
and ``DJANGO_SUPERUSER_PASSWORD`` in its environment.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess

from scripts.liveserver.devlab import live_devlab
from scripts.liveserver.gunicorn import stop_all
from scripts.liveserver.paths import ROOT


def _stop_on_signal(signum, _frame) -> None:
    stop_all()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.liveserver",
        description="Run a command against DevLab under gunicorn on a fresh PostgreSQL database.",
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
