"""Bounded load with wrk, and the measurements that need no server (PBKDF2 ceiling)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts.liveserver import PYTHON, ROOT, loopback_only

LUA = Path(__file__).resolve().parent / "lua"
MARKER = "BENCH_JSON "


def ensure_wrk() -> str:
    """wrk's path; installs Debian's ``wrk`` package with apt-get when it is missing."""
    if path := shutil.which("wrk"):
        return path
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise SystemExit("bench: wrk is not installed; install it (Debian/Ubuntu: sudo apt-get install -y wrk)")
    print("bench: installing wrk with apt-get ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, **quiet)
    if path := shutil.which("wrk"):
        return path
    raise SystemExit("bench: apt-get did not install wrk")


@dataclass
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms) and errors."""

    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int
    socket_errors: dict

    def as_dict(self) -> dict:
        return asdict(self)


def wrk(
    url: str,
    script: str,
    *,
    connections: int,
    duration: float,
    env: dict[str, str] | None = None,
    timeout_s: int = 5,
) -> WrkResult:
    """Runs wrk (one thread: wrk shares the 2 cores with the server) for a fixed time."""
    command = [
        ensure_wrk(),
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{duration}s",
        "--timeout",
        f"{timeout_s}s",
        "--script",
        str(LUA / script),
        loopback_only(url),
    ]
    result = subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=duration + timeout_s + 60,
        check=False,
    )
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith(MARKER)), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"bench: wrk failed on {url}:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len(MARKER) :])
    seconds = data["duration_us"] / 1e6
    percentiles = data["latency_us"]["percentiles"]
    socket_errors = {key: value for key, value in data["errors"].items() if key != "status"}
    return WrkResult(
        connections=connections,
        duration_s=round(seconds, 2),
        requests=data["requests"],
        rps=round(data["requests"] / seconds, 1),
        p50_ms=round(percentiles["50"] / 1000, 2),
        p90_ms=round(percentiles["90"] / 1000, 2),
        p99_ms=round(percentiles["99"] / 1000, 2),
        max_ms=round(data["latency_us"]["max"] / 1000, 2),
        errors=sum(socket_errors.values()) + data["errors"]["status"],
        non_2xx=data["errors"]["status"],
        socket_errors=socket_errors,
    )


_HASH_LOOP = """
import sys, time
from django.contrib.auth.hashers import PBKDF2PasswordHasher
hasher = PBKDF2PasswordHasher()
start_at, seconds = float(sys.argv[1]), float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.001)
count, began = 0, time.perf_counter()
while time.perf_counter() - began < seconds:
    hasher.encode("correct horse battery staple", hasher.salt())
    count += 1
print(count / (time.perf_counter() - began), hasher.iterations)
"""


def pbkdf2_ceiling(processes: int, seconds: float) -> dict:
    """Hashes per second of Django's PBKDF2 hasher, alone and in ``processes`` parallel processes
    (the best of three trials each).

    The login ceiling is the parallel figure: the rate ``processes`` gunicorn
    workers could reach if a login cost nothing but its one hash. On a machine
    with fewer cores than workers it is below ``single x workers``.
    """

    def run(count: int) -> tuple[float, int]:
        start_at = time.time() + 1.0
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "devlab.settings", "DEBUG": "True"}
        procs = [
            subprocess.Popen(  # bounded: each exits after ``seconds``
                [PYTHON, "-c", _HASH_LOOP, str(start_at), str(seconds)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        outputs = [proc.communicate(timeout=seconds + 60)[0].split() for proc in procs]
        return sum(float(out[0]) for out in outputs), int(outputs[0][1])

    # Best of three: a trial that something else on the machine slowed down
    # would lower the ceiling and flatter the login ratio.
    single, iterations = max(run(1) for _ in range(3))
    parallel, _ = max(run(processes) for _ in range(3))
    return {
        "iterations": iterations,
        "hashes_per_s_one_process": round(single, 2),
        "processes": processes,
        "hashes_per_s_parallel": round(parallel, 2),
        "single_times_workers": round(single * processes, 2),
    }


def count_queries(env: dict[str, str], requests: list[dict]) -> dict:
    """Queries each request costs, measured in-process by bench/queries.py on the run's database."""
    result = subprocess.run(
        [PYTHON, "-m", "bench.queries"],
        cwd=ROOT,
        env=env,
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        print(f"bench: counting queries failed:\n{result.stderr[-2000:]}", file=sys.stderr)
        return {}
    return json.loads(result.stdout.strip().splitlines()[-1])
