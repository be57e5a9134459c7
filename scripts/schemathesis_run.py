"""Schemathesis against the live schema, with every check, as a user and as an admin.

One DevLab under gunicorn (``scripts.liveserver``), two bounded runs against
its ``/api/schema/``:

1. **user**: a normal account signed up and logged in through the API; the
   user-facing operations (``/api/auth/``, ``/api/notes/``) with its bearer token.
2. **admin**: the superuser; ``/api/audit/`` and ``/api/admin/``. Its session
   survives whatever the run does: the API refuses to demote yourself (409),
   and nothing else in those routes revokes an access token.

Both runs use ``--checks all`` with the settings of ``scripts/schemathesis.toml``:
deterministic generation (no seed to pick: the same cases every run), no
state kept between runs, a fixed number of examples per operation, 5 s at
most per response. Each run also has a wall-clock budget (``--budget``) and
fails when it is spent. Throttles and the login lockout are raised for the
run (a 429 would hide what an endpoint really answers); 429 stays documented.
JUnit reports go to ``test-results/schemathesis-<run>.xml``.

    python -m scripts.schemathesis_run [--only user|admin] [--max-examples N] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from scripts.liveserver import ROOT, live_devlab, log_in, sign_up

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CONFIG = Path(__file__).with_name("schemathesis.toml")
REPORT_DIR = ROOT / "test-results"

#: Rates high enough that no request of the run is throttled; a lockout would
#: also answer 429 for the login the driver itself needs. The run fails about 70
#: password checks of its user; every login attempt reads LOGIN_FAILURE_LIMIT
#: cache keys, so the largest limit settings allow (1000) and not more: at 100,000
#: each password check took 3-4 s and the user run nearly five minutes.
SERVER_ENV = {
    "THROTTLE_ANON": "100000/min",
    "THROTTLE_USER": "100000/min",
    "THROTTLE_LOGIN": "100000/min",
    "THROTTLE_PASSWORD": "100000/min",
    "LOGIN_FAILURE_LIMIT": "1000",
    # Longer than any run: the bearer token given to schemathesis must not expire mid-run.
    "ACCESS_TOKEN_MINUTES": "60",
}

#: (name, operations, who): the user-facing API as a normal user, the admin API as the superuser.
RUNS = (
    ("user", r"^/api/(auth|notes)/", "user"),
    ("admin", r"^/api/(audit|admin)/", "admin"),
)


def new_user(url: str) -> tuple[str, str]:
    """A normal account signed up through the API: its username and password."""
    username, password = f"st-user-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    sign_up(url, username, password)
    return username, password


def schemathesis_command(url: str, name: str, paths: str, token: str, max_examples: int | None) -> list[str]:
    return [
        SCHEMATHESIS,
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/api/schema/",
        "--checks",
        "all",
        "--include-path-regex",
        paths,
        "--header",
        f"Authorization: Bearer {token}",
        *(["--max-examples", str(max_examples)] if max_examples else []),
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(REPORT_DIR / f"schemathesis-{name}.xml"),
    ]


def run(command: list[str], budget: float) -> int:
    """Runs one schemathesis; a run over its wall-clock budget is stopped and fails."""
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    try:
        return process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        print(f"schemathesis_run: over its budget of {budget:.0f} s, stopped", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[name for name, _, _ in RUNS], help="one run instead of both")
    parser.add_argument("--max-examples", type=int, help=f"test cases per operation and phase (default: {CONFIG.name})")
    parser.add_argument("--budget", type=float, default=420, help="wall-clock seconds each run may take")
    args = parser.parse_args(argv)
    REPORT_DIR.mkdir(exist_ok=True)
    failed = []
    started = time.monotonic()
    with live_devlab(label="schemathesis", extra_env=SERVER_ENV) as live:
        print(f"schemathesis_run: DevLab on {live.url} (log {live.log})", flush=True)
        credentials = {"user": new_user(live.url), "admin": (live.admin_username, live.admin_password)}
        for name, paths, who in RUNS:
            if args.only and name != args.only:
                continue
            token = log_in(live.url, *credentials[who])
            run_started = time.monotonic()
            print(f"\n=== schemathesis: {name} ({paths}) as {credentials[who][0]}", flush=True)
            returncode = run(schemathesis_command(live.url, name, paths, token, args.max_examples), args.budget)
            print(f"=== schemathesis: {name} exit {returncode} in {time.monotonic() - run_started:.0f} s", flush=True)
            if returncode != 0:
                failed.append(name)
    print(f"schemathesis_run: {time.monotonic() - started:.0f} s in all", flush=True)
    if failed:
        print(f"schemathesis_run: failures in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
