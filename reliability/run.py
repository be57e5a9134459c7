"""``make reliability``: every fault scenario, then one table; exit 1 on any failure.

    python -m reliability.run            # everything (about 5 minutes)
    python -m reliability.run --fast     # the CI subset: DB down/up, SIGTERM, cluster lockout/IP/chain
    python -m reliability.run --only soak --only db-down

Logs of every server go to ``test-results/reliability/`` (``--logdir``); what each
server's ``/metrics`` showed per scenario to ``reliability/results/<date>-<commit>.md``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from pathlib import Path

from reliability import metrics, scenarios
from reliability.lab import Lab, Result
from scripts import liveserver
from scripts.liveserver import ROOT

#: Whole-run limit: whatever hangs, the run ends and every process is stopped.
RUN_LIMIT_SECONDS = 900

SCENARIOS = {
    "db-down": (scenarios.database_down, True),
    "too-many": (scenarios.too_many_connections, False),
    "soak": (scenarios.soak, False),
    "worker-kill": (scenarios.worker_kill, False),
    "sigterm": (scenarios.graceful_shutdown, True),
    "fuzz": (scenarios.fuzz_under_load, False),
    "backup": (scenarios.backup_restore, False),
    "cache-down": (scenarios.cache_down, False),
    "cluster": (None, True),
}

COLUMNS = (
    ("scenario", 38),
    ("sent", 6),
    ("2xx", 6),
    ("4xx", 5),
    ("5xx", 5),
    ("no ans", 6),
    ("acked", 6),
    ("rows", 6),
    ("chain", 7),
    ("time", 6),
    ("result", 6),
)


def table(results: list[Result]) -> str:
    head = " ".join(f"{name:<{width}}" if i == 0 else f"{name:>{width}}" for i, (name, width) in enumerate(COLUMNS))
    lines = [head, "-" * len(head)]
    for r in results:
        values = (
            r.name,
            r.sent,
            r.ok_2xx,
            r.client_4xx,
            r.server_5xx,
            r.no_answer,
            r.acknowledged,
            r.found,
            r.chain,
            f"{r.seconds:.0f}s",
            "PASS" if r.ok else "FAIL",
        )
        lines.append(
            " ".join(
                f"{v!s:<{w}}" if i == 0 else f"{v!s:>{w}}"
                for i, (v, (_, w)) in enumerate(zip(values, COLUMNS, strict=True))
            )
        )
    return "\n".join(lines)


def details(results: list[Result]) -> str:
    lines = []
    for r in results:
        lines.append(f"* {r.name}: {'PASS' if r.ok else 'FAIL'}")
        lines.extend(f"    {note}" for note in r.notes)
        lines.extend(f"    PROBLEM: {problem}" for problem in r.problems)
    return "\n".join(lines)


def _timeout(*_args) -> None:
    raise TimeoutError(f"reliability run exceeded {RUN_LIMIT_SECONDS} s")


def _terminated(*_args) -> None:
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DevLab fault and scale-out scenarios")
    parser.add_argument("--fast", action="store_true", help="only the CI subset")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="run just these (repeatable)")
    parser.add_argument("--logdir", type=Path, default=ROOT / "test-results" / "reliability")
    args = parser.parse_args(argv)
    chosen = args.only or [name for name, (_, fast) in SCENARIOS.items() if fast or not args.fast]
    args.logdir.mkdir(parents=True, exist_ok=True)

    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(RUN_LIMIT_SECONDS)
    signal.signal(signal.SIGTERM, _terminated)
    started = time.monotonic()
    results: list[Result] = []
    try:
        with Lab(args.logdir) as lab:
            for name in chosen:
                print(f"reliability: {name} ...", flush=True)
                try:
                    if name == "cluster":
                        results.extend(scenarios.cluster_scenarios(lab, failover=not args.fast))
                    else:
                        results.append(SCENARIOS[name][0](lab))
                except Exception as exc:
                    traceback.print_exc()
                    results.append(Result(name, problems=[f"scenario crashed: {exc!r}"]))
                finally:
                    liveserver.stop_all()
                if results:
                    print(f"  -> {'PASS' if results[-1].ok else 'FAIL'} ({results[-1].seconds:.0f} s)", flush=True)
    finally:
        liveserver.stop_all()
        signal.alarm(0)

    print()
    print(table(results))
    print(
        "5xx includes the expected ones (503 JSON while PostgreSQL or Redis is away or slots are full, 502 from\n"
        "nginx for requests a killed replica held); any other 5xx fails its scenario. acked = writes answered 2xx,\n"
        "rows = those with exactly one audit row of their action (found by X-Request-ID)."
    )
    print()
    print(details(results))
    print("\nWhat /metrics showed (every server of a scenario added up; reliability/metrics.py):")
    print(metrics.overview(metrics.RECORDER))
    print(f"written to {metrics.write_report(metrics.RECORDER, results, fast=args.fast).relative_to(ROOT)}")
    failed = [r.name for r in results if not r.ok]
    total = time.monotonic() - started
    print(f"\nreliability: {len(results) - len(failed)} passed, {len(failed)} failed in {total:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
