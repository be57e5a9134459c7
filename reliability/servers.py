"""gunicorn instances the scenarios start, signal and kill, always by their own pids.

Each instance is the production command (``gunicorn devlab.wsgi --config
gunicorn.conf.py``) in a process group of its own, so that "kill the whole
instance" is one ``killpg`` of exactly the processes we started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import GUNICORN, ROOT, free_port, rss_kib
from reliability.client import wait_http

#: Every instance started and not yet stopped; the runner stops them whatever happens.
RUNNING: list[Instance] = []


class Instance:
    """One gunicorn master and its sync workers on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 3, port: int | None = None, **overrides):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = log
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            # No recycling in the middle of a scenario: memory growth must show.
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
            **{key: str(value) for key, value in overrides.items()},
        }
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 60) -> Instance:
        with self.log.open("ab") as fh:
            self.process = subprocess.Popen(
                [GUNICORN, "devlab.wsgi", "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        RUNNING.append(self)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early with {self.process.returncode}; see {self.log}")
            if wait_http(f"{self.base_url}/healthz", timeout=1) and len(self.worker_pids()) == self.workers:
                return self
        self.kill()
        raise RuntimeError(f"gunicorn did not become ready; see {self.log}")

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> list[int]:
        if not self.alive():
            return []
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(pid) for pid in children.split()]

    def wait_workers(self, count: int, exclude: set[int] = frozenset(), timeout: float = 30) -> bool:
        """Waits until ``count`` workers run, none of them in ``exclude`` (killed ones)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = set(self.worker_pids())
            if len(pids) == count and not pids & exclude:
                return True
            time.sleep(0.1)
        return False

    def rss_kib(self) -> dict[int, int]:
        return {pid: value for pid in self.worker_pids() if (value := rss_kib(pid)) is not None}

    def terminate(self, timeout: float = 60) -> int | None:
        """SIGTERM to the master (graceful shutdown); its exit status, or None if it hung."""
        if not self.alive():
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self._forget_if_gone()

    def kill(self) -> None:
        """SIGKILL to the master and every worker (the whole instance dies at once)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._forget_if_gone()

    def stop(self) -> None:
        """Graceful stop, then SIGKILL if it has not gone in time."""
        if self.alive() and self.terminate(timeout=40) is None:
            self.kill()
        self.kill()  # any worker left behind in the group

    def _forget_if_gone(self) -> None:
        if self.process is not None and self.process.poll() is not None and self in RUNNING:
            RUNNING.remove(self)


def stop_all() -> None:
    for instance in list(RUNNING):
        instance.stop()


class RedisServer:
    """A redis-server of the scenario's own on a free loopback port, keeping nothing on disk.

    The machine's Redis (6379) is shared and never stopped; this one may be killed.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=tempfile.gettempdir(),
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
