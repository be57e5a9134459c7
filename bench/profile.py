"""Where a request's time goes: py-spy samples one gunicorn worker under wrk load.

    .venv/bin/python -m bench.profile /api/notes/ [--seconds 10] [--method POST] [--gil]
    .venv/bin/python -m bench.profile /api/auth/login/

Sets up a fresh database with a little demo data (like bench/run.py), starts
gunicorn with ONE worker, drives the path with wrk at 2 connections and
records the worker with py-spy (``pip install py-spy``; needs ptrace rights,
i.e. root or ``kernel.yama.ptrace_scope=0``). Prints the functions with the
largest inclusive and own share of the samples and writes the folded stacks
(for flamegraph.pl or speedscope.app) to bench/results/profile-*.folded.tmp.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # python bench/profile.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.context import RESULTS_DIR
from bench.harness import production_example_env
from bench.load import wrk
from bench.scenarios.notes import NOTE_BODY
from bench.seeding import ADMIN, DEMO_PASSWORD, LOGIN_USERS, TOKEN_USERS, create_admin
from scripts import liveserver
from scripts.liveserver import Database, GunicornServer, manage


def summarise(folded: Path, top: int) -> str:
    """Inclusive and own sample shares per function from py-spy's folded stacks."""
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[-1] for frame in stack.split(";")]
        samples = int(count)
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines += ["", "own:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="the path to load, e.g. /api/notes/")
    parser.add_argument("--method", default="GET", choices=["GET", "POST"])
    parser.add_argument("--admin", action="store_true", help="authenticate as the demo admin")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--gil", action="store_true", help="only samples holding the GIL: Python CPU time, no waiting on the database"
    )
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server, repeatable")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(liveserver.PYTHON).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("bench: py-spy is not installed (.venv/bin/pip install py-spy)")

    db = Database()
    extra = dict(item.split("=", 1) for item in args.env)
    env = production_example_env(db.url, liveserver.new_secret_key(), extra)
    RESULTS_DIR.mkdir(exist_ok=True)
    log = RESULTS_DIR / "profile-server.log.tmp"
    slug = args.path.strip("/").replace("/", "-").replace("?", "_") or "root"
    folded = RESULTS_DIR / f"profile-{args.method.lower()}-{slug}.folded.tmp"
    db.create()
    try:
        manage(env, "migrate", "--noinput", log=log)
        manage(
            {**env, "DEVLAB_DEMO": "True"},  # the demo app, for seeding only: the server never has it
            "seed_demo",
            "--users=20",
            "--notes-per-user=100",
            "--audit-rows=1000",
            f"--password={DEMO_PASSWORD}",
            "--force",
            log=log,
        )
        create_admin(env, log)
        with GunicornServer(env, 1, log) as server:
            tokens = subprocess.run(
                [liveserver.PYTHON, "-m", "bench.tokens", *TOKEN_USERS, ADMIN],
                cwd=liveserver.ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            tokens = json.loads(tokens)
            who = [ADMIN] if args.admin else TOKEN_USERS
            token_env = {
                "BENCH_TOKENS": ",".join(tokens[name] for name in who),
                "BENCH_BODY": json.dumps(NOTE_BODY),
            }
            token_env.update(BENCH_USERNAMES=",".join(LOGIN_USERS), BENCH_PASSWORD=DEMO_PASSWORD)
            if args.path.startswith("/api/auth/login/"):
                script = "login.lua"
            else:
                script = "post_json.lua" if args.method == "POST" else "get_auth.lua"
            url = server.base_url + args.path
            wrk(url, script, connections=2, duration=2, env=token_env)
            worker = server.worker_pids()[0]
            recorder = subprocess.Popen(  # bounded by --duration
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(worker),
                    "--duration",
                    str(args.seconds),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(folded),
                    "--nonblocking",
                    *(["--gil"] if args.gil else []),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = wrk(url, script, connections=2, duration=args.seconds + 1, env=token_env)
            recorder.wait(timeout=args.seconds + 60)
    finally:
        db.drop()
    print(f"{args.method} {args.path}: {result.rps:.0f} rps at 2 connections, 1 worker (under py-spy)\n")
    print(summarise(folded, args.top))
    print(f"\nfolded stacks: {folded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
