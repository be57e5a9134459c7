"""The run's data: demo users, notes and audit history in the small database, a copy grown
to the large size, the admin who reads the audit trail, and everyone's access tokens."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scripts import liveserver
from scripts.liveserver import manage

if TYPE_CHECKING:
    from bench.context import BenchRun

DEMO_PASSWORD = "bench-demo-password-7d1c"  # noqa: S105 - demo users of a throwaway database
USER, ADMIN = "demo1", "benchadmin"
# Reads and writes rotate over these users' tokens, like traffic from many people.
TOKEN_USERS = [f"demo{n}" for n in range(1, 17)]
HISTORY_USERS = 10
LOGIN_USERS = [f"demo{n}" for n in range(3, 11)]


def create_admin(env: dict[str, str], log: Path) -> None:
    """The admin who reads the audit trail: Django's own createsuperuser."""
    manage(
        {**env, "DJANGO_SUPERUSER_PASSWORD": DEMO_PASSWORD},
        "createsuperuser",
        "--noinput",
        f"--username={ADMIN}",
        f"--email={ADMIN}@example.com",
        log=log,
    )


def seed(run: BenchRun, env: dict[str, str], users: int, notes_per_user: int, audit_rows: int) -> float:
    started = time.monotonic()
    manage(
        {**env, "DEVLAB_DEMO": "True"},  # the demo app, for this command only: the server never has it
        "seed_demo",
        f"--users={users}",
        f"--notes-per-user={notes_per_user}",
        f"--audit-rows={audit_rows}",
        f"--password={DEMO_PASSWORD}",
        "--force",  # DEBUG is off, as in production
        log=run.log,
    )
    return time.monotonic() - started


def mint_tokens(run: BenchRun) -> None:
    output = subprocess.run(
        [liveserver.PYTHON, "-m", "bench.tokens", *TOKEN_USERS, ADMIN],
        cwd=liveserver.ROOT,
        env=run.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    run.tokens = json.loads(output)


def setup(run: BenchRun) -> None:
    """The small database migrated and seeded, the admin and the tokens; then the large copy."""
    started = time.monotonic()
    run.say(f"creating database {run.db.name}, migrating")
    run.db.create()
    manage(run.env, "migrate", "--noinput", log=run.log)
    manage(run.env, "createcachetable", log=run.log)
    p = run.profile
    run.say(f"seeding {p['users']} users x {p['notes_per_user']} notes and {p['audit_small']:,} audit rows")
    # The first users get the small audit history to themselves, so that the
    # actor filter fills a page at 1k rows as it does at 1M (where every
    # user is an actor): the two sizes then compare equal pages.
    first = min(HISTORY_USERS, p["users"])
    per_user = 0 if "notes" in run.skip else p["notes_per_user"]
    seconds = seed(run, run.env, first, per_user, p["audit_small"])
    seconds += seed(run, run.env, p["users"] - first, per_user, 0)
    run.results.measurements["seed_small"] = {
        "users": p["users"],
        "notes": p["users"] * per_user,
        "audit_rows": p["audit_small"],
        "seconds": round(seconds, 1),
    }
    create_admin(run.env, run.log)
    mint_tokens(run)
    run.actor_id = int(run.db.scalar(f"SELECT id FROM accounts_user WHERE username = '{USER}'"))  # noqa: S608
    # An address of the seeded history: the same few rows match at every table size.
    run.filter_ip = run.db.scalar(
        "SELECT host(ip) FROM audit_auditentry WHERE ip IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1"
    )
    run.phase("setup and seed", started)
    if "large" not in run.skip:
        seed_large(run)


def seed_large(run: BenchRun) -> None:
    """The large table: a copy of the small database, grown with seed_demo --audit-rows."""
    started = time.monotonic()
    run.large_db.create(template=run.db)
    grow = run.profile["audit_large"] - run.audit_rows(run.large_db)
    run.say(f"copying the database and seeding {grow:,} more audit rows into the copy")
    seconds = seed(run, run.large_env, 0, 0, grow)
    run.results.measurements["seed_large"] = {
        "audit_rows": grow,
        "seconds": round(seconds, 1),
        "rows_per_s": round(grow / seconds),
    }
    run.phase(f"seed {grow:,} audit rows", started)
