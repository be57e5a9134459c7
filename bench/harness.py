"""What the benchmarks add to the live-server harness (scripts/liveserver/):
production settings with throttles no benchmark reaches, CPU and memory
sampling of the server's processes, and streamed downloads.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from scripts import liveserver
from scripts.liveserver import loopback_only, rss_kib

# Throttles stay in the request path (their counter hit is part of the cost
# being measured) but with a rate no benchmark reaches.
UNREACHABLE_RATE = "1000000/s"
# The cache the production example sets (deploy/docker-compose.prod.yml: Redis), which
# the benchmarks measure with, in a Redis database of their own (django-environ cannot
# give Django's Redis backend a key prefix: it lower-cases KEY_PREFIX). --env
# CACHE_URL=... overrides it. (The reliability lab keeps the zero-setup database cache.)
PRODUCTION_CACHE_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def production_example_env(database_url: str, secret_key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """``app_env`` with the production example's cache (Redis): what the benchmarks measure."""
    return app_env(database_url, secret_key, {"CACHE_URL": PRODUCTION_CACHE_URL, **(extra or {})})


def app_env(database_url: str, secret_key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The live-server environment with unreachable throttles and hour-long access tokens."""
    bench = {
        "THROTTLE_ANON": UNREACHABLE_RATE,
        "THROTTLE_USER": UNREACHABLE_RATE,
        "THROTTLE_LOGIN": UNREACHABLE_RATE,
        "ACCESS_TOKEN_MINUTES": "60",
    }
    return liveserver.app_env(database_url, secret_key, {**bench, **(extra or {})})


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (Linux /proc); gone ones are left out."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two ``cpu_seconds`` snapshots; a process that started
    in between counts whole (PostgreSQL backends come and go with CONN_MAX_AGE)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class RssSampler:
    """Samples the RSS of some processes every ``interval`` seconds in a thread."""

    pids: callable
    interval: float = 0.05
    baseline: dict[int, int] = field(default_factory=dict)
    peak: dict[int, int] = field(default_factory=dict)

    def __enter__(self) -> RssSampler:
        self._stop = threading.Event()
        for pid in self.pids():
            if (value := rss_kib(pid)) is not None:
                self.baseline[pid] = self.peak[pid] = value
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for pid in self.pids():
                if (value := rss_kib(pid)) is not None:
                    self.baseline.setdefault(pid, value)
                    self.peak[pid] = max(self.peak.get(pid, 0), value)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        """The largest growth of any one process over its own starting RSS."""
        growth = [self.peak[pid] - self.baseline[pid] for pid in self.peak if pid in self.baseline]
        return round(max(growth, default=0) / 1024, 1)

    @property
    def peak_mib(self) -> float:
        return round(max(self.peak.values(), default=0) / 1024, 1)


def stream_lines(url: str, token: str, timeout: float = 600) -> tuple[int, int, int]:
    """Downloads a streamed response, discarding it; returns (status, lines, bytes)."""
    request = urllib.request.Request(loopback_only(url))  # noqa: S310 - http, loopback
    request.add_header("Authorization", f"Bearer {token}")
    lines = size = 0
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        while chunk := response.read(1 << 16):
            lines += chunk.count(b"\n")
            size += len(chunk)
        return response.status, lines, size
