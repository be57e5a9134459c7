"""DevLab benchmark suite: ``make bench`` (about 7 minutes) or ``make bench-quick``.

Starts from nothing: a fresh PostgreSQL database, migrations, demo data from
``manage.py seed_demo``, gunicorn with ``DEBUG=False`` on a loopback port, then
bounded wrk runs (fixed duration and connections) against each hot path.
Throughput is reported as ratios between scenarios measured in the same run,
because the server and wrk share the same cores. See bench/README.md.

This module is the orchestrator: it seeds (``bench/seeding.py``), runs the
scenarios of ``bench/scenarios/`` in order, builds the target table from them
and writes the results (``bench/report.py``).

    .venv/bin/python -m bench.run [--quick] [--workers N] [--keep-db]
    .venv/bin/python -m bench.run --checkpoints [--rows N]   # bench/checkpoints.py
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import seeding
from bench.context import DEFAULT_WORKERS, RESULTS_DIR, BenchRun
from bench.load import count_queries, ensure_wrk
from bench.report import Target
from bench.scenarios import audit_list, export, health, login, notes, side_by_side, soak, sweep, verify_audit
from scripts import liveserver
from scripts.liveserver import GunicornServer


def queries_per_request(run: BenchRun) -> dict:
    """One request of each scenario, its SQL statements counted in-process (``bench/queries.py``)."""
    requests = [*health.QUERY_REQUESTS]
    if "notes" not in run.skip:
        requests += notes.query_requests(run)
    requests += [*login.QUERY_REQUESTS, *audit_list.query_requests(run)]
    counts = count_queries(run.env, requests)
    run.results.measurements["queries_per_request"] = {name: value["queries"] for name, value in counts.items()}
    bad = {name: value["status"] for name, value in counts.items() if value["status"] >= 400}
    if bad:
        raise SystemExit(f"bench: requests failed while counting queries: {bad}")
    return {name: value["queries"] for name, value in counts.items()}


def measure(run: BenchRun) -> None:
    """The scenarios on the two servers (small and large table), in the order of bench/README.md."""
    started = time.monotonic()
    large = "large" not in run.skip
    with contextlib.ExitStack() as servers:
        server = servers.enter_context(GunicornServer(run.env, run.workers, run.log))
        sites = [(server, run.db)]
        if large:
            large_server = servers.enter_context(GunicornServer(run.large_env, run.workers, run.log))
            sites.append((large_server, run.large_db))
        queries = queries_per_request(run)

        health.measure(run, server, queries)
        if "notes" not in run.skip:
            notes.measure_list(run, server, queries)
        audit_list.measure(run, sites, queries)
        verify_audit.measure_small(run)
        if "notes" not in run.skip:
            notes.measure_create(run, server, queries)
        if "login" not in run.skip:
            login.measure(run, server, queries)
        if "notes" not in run.skip:
            soak.measure(run, server)
        run.phase("load", started)
        if not large:
            verify_audit.record(run)
            return
        export.measure(run, large_server)
    verify_audit.measure_large(run)


def targets(run: BenchRun) -> None:
    """The issue's target table, each line from figures of this run (or "not measured")."""
    notes.targets(run)
    login.targets(run)
    soak.targets(run)
    if "large" in run.skip:
        run.results.targets.append(
            Target("audit list, export, verify_audit at 1M rows", "not measured", "see the issue", None)
        )
        return
    audit_list.targets(run)
    export.targets(run)
    verify_audit.targets(run)


def meta(run: BenchRun) -> dict:
    """The header of the results: machine, commit, profile and load average before the run."""

    def git(*args):
        return subprocess.run(["git", *args], cwd=liveserver.ROOT, capture_output=True, text=True).stdout.strip()

    cpu_model = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        platform.processor(),
    )
    memory = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "commit": git("rev-parse", "--short", "HEAD")
        + ("-dirty" if git("status", "--porcelain", "--untracked-files=no", "--", ".") else ""),
        "quick": run.args.quick,
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(int(memory.split()[1]) / 2**20),
        "python": platform.python_version(),
        "duration_s": run.profile["duration"],
        "warmup_s": run.profile["warmup"],
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "cache": run.env["CACHE_URL"],
        "extra_env": run.args.env,
        "skipped": sorted(run.skip),
    }


def execute(run: BenchRun) -> Path:
    ensure_wrk()
    RESULTS_DIR.mkdir(exist_ok=True)
    run.results.meta = meta(run)
    try:
        seeding.setup(run)
        run.results.meta["postgres"] = run.db.server_version()
        # The sweep compares worker counts on the notes list.
        if not run.workers and run.profile["sweep"] and "notes" not in run.skip:
            sweep.choose_workers(run)
        run.workers = run.workers or DEFAULT_WORKERS
        login.measure_ceiling(run)
        measure(run)
    finally:
        run.db.drop()
        if "large" not in run.skip:
            run.large_db.drop()
    targets(run)
    if "compare" not in run.skip:
        side_by_side.measure(run)
    header = run.results.meta
    header.update(
        workers=run.workers,
        workers_chosen_by=run.workers_chosen_by,
        load_after=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        elapsed_s=round(time.monotonic() - run.started),
    )
    stem = f"{header['date']}-{header['commit']}" + ("-quick" if run.args.quick else "")
    md, _ = run.results.write(RESULTS_DIR, stem)
    print()
    print(md.read_text())
    run.log.unlink(missing_ok=True)
    print(f"bench: results written to {md} and {md.with_suffix('.json')}")
    return md


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 2-minute smoke run on small data")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: chosen by a sweep)")
    parser.add_argument("--audit-rows", type=int, default=0, help="size of the large audit table")
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database afterwards")
    parser.add_argument(
        "--skip",
        type=lambda value: [part for part in value.split(",") if part],
        default=[],
        help=(
            "comma-separated parts to leave out: notes (list, create and the sweep), login, "
            "large (the 1M phase), compare (side by side with the original system)"
        ),
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra setting for the server and commands, e.g. CACHE_URL=redis://127.0.0.1:6379/9 (repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--checkpoints" in argv:  # the signed-checkpoint scenario (bench/checkpoints.py) instead
        from bench import checkpoints

        return checkpoints.main([arg for arg in argv if arg != "--checkpoints"])
    execute(BenchRun(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
