"""Signed checkpoints at scale (issue #15): ``python -m bench.checkpoints [--rows N]``, or ``make bench`` with
``BENCH_ARGS=--checkpoints``.

On a fresh PostgreSQL database (``scripts.liveserver.Database``; or
``--database-url`` for one that already holds the rows and no checkpoint):
seeds N audit entries with ``seed_audit`` (the synthetic-row generator), then
measures, against the targets of issue #15:

- the first checkpoint over all N entries (target < 60 s at 1M);
- a checkpoint after 1,000 new entries (< 1 s);
- inclusion and consistency proofs from the stored tiles (< 50 ms each; p50 and max of 200);
- ``manage.py audit_bundle`` and ``verify_bundle.py`` over everything: wall time,
  rate and peak RSS (< 150 MB each), each in its own process (GNU ``time``);
- ``manage.py verify_audit`` (the HMAC chain plus the checkpoint roots), for reference.

Writes ``bench/results/<date>-<commit>-checkpoints.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS_DIR = ROOT / "bench" / "results"
PYTHON = sys.executable
LAST_CPU = [0.0]
TARGETS = {
    "first_checkpoint_s": 60.0,
    "checkpoint_after_1000_s": 1.0,
    "inclusion_proof_ms": 50.0,
    "consistency_proof_ms": 50.0,
    "bundle_rss_mb": 150.0,
    "verify_bundle_rss_mb": 150.0,
}


def run_measured(args: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of a child process; its CPU seconds go to ``LAST_CPU``.

    Through GNU time: the rusage of a child forked from this (large) process would count
    the pages it shared before exec as its own peak."""
    started = time.perf_counter()
    process = subprocess.run(
        ["/usr/bin/time", "-f", "BENCH-RUSAGE %M %U %S", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    usage = next(line for line in reversed(process.stderr.splitlines()) if line.startswith("BENCH-RUSAGE "))
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({process.returncode}):\n{process.stdout}{process.stderr}")
    max_kb, user, system = usage.split()[1:]
    LAST_CPU[0] = float(user) + float(system)
    return elapsed, int(max_kb) / 1024, process.stdout


def manage(*args: str, env: dict) -> tuple[float, float, str]:
    return run_measured([PYTHON, "manage.py", *args], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit entries (default 1,000,000)")
    parser.add_argument("--database-url", default="", help="use this database (its rows, no checkpoint yet)")
    parser.add_argument("--keep-db", action="store_true", help="keep the created database afterwards")
    args = parser.parse_args(argv)

    from scripts.liveserver import Database

    database = None
    url = args.database_url
    if not url:
        database = Database(keep=args.keep_db, prefix="devlab_bench_ckpt")
        database.create()
        url = database.url
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "False",
        # A reused database needs the SECRET_KEY its rows were chained with.
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-checkpoints-secret-key-not-for-production-0123456789"),
        "ALLOWED_HOSTS": "localhost",
        "AUDIT_LOG_ORIGIN": "bench.devlab.local/audit",
    }
    results: dict = {"rows": args.rows, "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    try:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            manage("migrate", "-v0", env=env)
            env["AUDIT_CHECKPOINT_KEY_FILE"] = str(folder / "checkpoint.key")
            _, _, verifier = manage("audit_keygen", "--out", env["AUDIT_CHECKPOINT_KEY_FILE"], env=env)
            verifier = verifier.strip()
            measure(args.rows, env, folder, verifier, results)
    finally:
        if database is not None:
            database.drop()
    write_results(results)
    return 0 if all(results["pass"].values()) else 1


def measure(rows: int, env: dict, folder: Path, verifier: str, results: dict) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")
    import django

    django.setup()
    from audit import checkpoints
    from audit.models import AuditEntry
    from demo.services import audit_seed

    present = AuditEntry.objects.count()
    if present < rows:
        started = time.perf_counter()
        audit_seed(rows=rows - present, seed=1)
        results["seed_s"] = round(time.perf_counter() - started, 1)
    signer = Path(env["AUDIT_CHECKPOINT_KEY_FILE"]).read_text()

    started, cpu = time.perf_counter(), time.process_time()
    first = checkpoints.audit_checkpoint_sign(signer_key=signer)
    results["first_checkpoint_s"] = round(time.perf_counter() - started, 2)
    results["first_checkpoint_cpu_s"] = round(time.process_time() - cpu, 2)
    results["tree_size"] = first.checkpoint.tree_size
    print(f"first checkpoint of {first.checkpoint.tree_size:,} entries: {results['first_checkpoint_s']} s", flush=True)

    audit_seed(rows=1000, seed=2)
    started, cpu = time.perf_counter(), time.process_time()
    second = checkpoints.audit_checkpoint_sign(signer_key=signer)
    results["checkpoint_after_1000_s"] = round(time.perf_counter() - started, 3)
    results["checkpoint_after_1000_cpu_s"] = round(time.process_time() - cpu, 3)
    print(f"checkpoint after 1,000 new entries: {results['checkpoint_after_1000_s']} s", flush=True)

    size = second.checkpoint.tree_size
    rng = random.Random(3)
    top = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    inclusion, consistency = [], []
    for _ in range(200):
        entry_id = (
            AuditEntry.objects.filter(id__gte=rng.randrange(1, top)).order_by("id").values_list("id", flat=True)[0]
        )
        started = time.perf_counter()
        checkpoints.inclusion_proof(entry_id, size)
        inclusion.append((time.perf_counter() - started) * 1000)
        first_size = rng.randrange(1, size)
        started = time.perf_counter()
        checkpoints.consistency_proof(first_size, size)
        consistency.append((time.perf_counter() - started) * 1000)
    results["inclusion_proof_ms"] = round(max(inclusion), 2)
    results["inclusion_proof_p50_ms"] = round(statistics.median(inclusion), 2)
    results["consistency_proof_ms"] = round(max(consistency), 2)
    results["consistency_proof_p50_ms"] = round(statistics.median(consistency), 2)
    print(
        f"proofs: inclusion p50 {results['inclusion_proof_p50_ms']} ms max {results['inclusion_proof_ms']} ms, "
        f"consistency p50 {results['consistency_proof_p50_ms']} ms max {results['consistency_proof_ms']} ms",
        flush=True,
    )

    bundle = folder / "bundle"
    seconds, rss, _ = manage("audit_bundle", str(bundle), env=env)
    results.update(bundle_s=round(seconds, 1), bundle_rss_mb=round(rss, 1), bundle_rate=round(size / seconds))
    results["bundle_cpu_s"] = round(LAST_CPU[0], 1)
    print(f"audit_bundle: {seconds:.1f} s, {size / seconds:,.0f} entries/s, peak RSS {rss:.0f} MB", flush=True)

    clean_env = {"PATH": os.environ.get("PATH", ""), "PYTHONNOUSERSITE": "1"}
    seconds, rss, report = run_measured(
        [PYTHON, str(bundle / "verify_bundle.py"), str(bundle), "--key", verifier], clean_env, cwd=folder
    )
    results.update(
        verify_bundle_s=round(seconds, 1), verify_bundle_rss_mb=round(rss, 1), verify_bundle_rate=round(size / seconds)
    )
    results["verify_bundle_report"] = report
    results["verify_bundle_cpu_s"] = round(LAST_CPU[0], 1)
    print(f"verify_bundle.py: {seconds:.1f} s, {size / seconds:,.0f} entries/s, peak RSS {rss:.0f} MB", flush=True)

    seconds, rss, _ = manage("verify_audit", "-v0", env=env)
    results.update(verify_audit_s=round(seconds, 1), verify_audit_rss_mb=round(rss, 1))
    results["verify_audit_cpu_s"] = round(LAST_CPU[0], 1)
    results["load_average"] = os.getloadavg()
    print(f"verify_audit: {seconds:.1f} s, peak RSS {rss:.0f} MB", flush=True)
    results["pass"] = {name: results[name] < limit for name, limit in TARGETS.items()}


def write_results(results: dict) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    stem = RESULTS_DIR / f"{dt.date.today().isoformat()}-{commit or 'nocommit'}-checkpoints"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        (
            "first checkpoint (wall; CPU of this process)",
            f"{results['first_checkpoint_s']} s; {results['first_checkpoint_cpu_s']} s CPU",
            "< 60 s",
            "first_checkpoint_s",
        ),
        (
            "checkpoint after 1,000 new entries (wall; CPU)",
            f"{results['checkpoint_after_1000_s']} s; {results['checkpoint_after_1000_cpu_s']} s CPU",
            "< 1 s",
            "checkpoint_after_1000_s",
        ),
        (
            "inclusion proof (p50 / max of 200)",
            f"{results['inclusion_proof_p50_ms']} / {results['inclusion_proof_ms']} ms",
            "< 50 ms",
            "inclusion_proof_ms",
        ),
        (
            "consistency proof (p50 / max of 200)",
            f"{results['consistency_proof_p50_ms']} / {results['consistency_proof_ms']} ms",
            "< 50 ms",
            "consistency_proof_ms",
        ),
        (
            "audit_bundle: time, rate, peak RSS",
            f"{results['bundle_s']} s, {results['bundle_rate']:,}/s, {results['bundle_rss_mb']} MB",
            "RSS < 150 MB",
            "bundle_rss_mb",
        ),
        (
            "verify_bundle.py: time, rate, peak RSS",
            f"{results['verify_bundle_s']} s, {results['verify_bundle_rate']:,}/s, "
            f"{results['verify_bundle_rss_mb']} MB",
            "RSS < 150 MB",
            "verify_bundle_rss_mb",
        ),
    ]
    lines = [
        f"# Signed checkpoints at {results['tree_size']:,} audit entries ({results['started']}, {commit})",
        "",
        "PostgreSQL on the shared 2-core machine (load average at the end: "
        f"{', '.join(f'{x:.1f}' for x in results['load_average'])}: wall times include waiting for a CPU; "
        "CPU seconds are this process's or the child's own); `python -m bench.checkpoints` (bench/checkpoints.py).",
        "",
        "| measure | result | target | met |",
        "|---|---|---|---|",
        *(
            f"| {name} | {value} | {target} | {'yes' if results['pass'][key] else 'NO'} |"
            for name, value, target, key in rows
        ),
        f"| verify_audit (chain + checkpoint roots), for reference | {results['verify_audit_s']} s, "
        f"{results['verify_audit_rss_mb']} MB | | |",
        "",
        "verify_bundle.py's report:",
        "",
        "```",
        results["verify_bundle_report"].rstrip(),
        "```",
        "",
    ]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print(f"results: {stem.with_suffix('.md')}")


if __name__ == "__main__":
    sys.exit(main())
