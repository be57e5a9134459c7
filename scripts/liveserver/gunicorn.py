"""gunicorn under control: the production command on a free loopback port, stopped whatever happens.

Every server started is in ``RUNNING`` until it has gone; ``stop_all`` (registered
with ``atexit``, and called by the command line's SIGTERM handler) stops what is left.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

from scripts.liveserver.client import loopback_only
from scripts.liveserver.paths import GUNICORN, ROOT

#: Every gunicorn started and not yet stopped; ``stop_all`` stops them whatever happens.
RUNNING: list[GunicornServer] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (Linux /proc), or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def wait_http(url: str, status: int = 200, timeout: float = 60) -> bool:
    """Polls ``url`` (loopback) until it answers ``status``; False after ``timeout``."""
    parsed = urllib.parse.urlparse(loopback_only(url))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
        try:
            connection.request("GET", parsed.path or "/")
            if connection.getresponse().status == status:
                return True
        except (TimeoutError, OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    return False


class GunicornServer:
    """The production command (``gunicorn devlab.wsgi --config gunicorn.conf.py``) on a free
    loopback port, in a process group of its own so that "kill the whole server" is one
    ``killpg`` of exactly the processes started here. ``app`` names another WSGI module
    (``bench.without_audit``, the benchmarks' bound) served the same way."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int,
        log: Path,
        *,
        port: int | None = None,
        ready_path: str = "/readyz",
        app: str = "devlab.wsgi",
        **overrides,
    ):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = log
        self.ready_path = ready_path
        self.app = app
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            # No worker recycling in the middle of a run: memory growth must
            # show and measurements stay comparable. gunicorn's own 30 s timeout
            # stays, as in production.
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
            **{key: str(value) for key, value in overrides.items()},
        }
        self.process: subprocess.Popen | None = None

    def start(self, ready_timeout: float = 60) -> GunicornServer:
        """Starts gunicorn and returns once ``ready_path`` answers 200 from every worker's master."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as fh:
            self.process = subprocess.Popen(  # stopped by stop(), by its own process group
                [GUNICORN, self.app, "--config", "gunicorn.conf.py"],
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
                self._forget_if_gone()
                raise RuntimeError(f"gunicorn exited early with {self.process.returncode}; see {self.log}")
            if wait_http(f"{self.base_url}{self.ready_path}", timeout=1) and len(self.worker_pids()) == self.workers:
                return self
        self.kill()
        raise RuntimeError(f"gunicorn did not become ready in {ready_timeout:.0f} s; see {self.log}")

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
        """SIGKILL to the master and every worker (the whole server dies at once)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._forget_if_gone()

    def stop(self) -> None:
        """Graceful stop, then SIGKILL if it has not gone in time; nothing of it is left running."""
        if self.alive() and self.terminate(timeout=40) is None:
            self.kill()
        self.kill()  # any worker left behind in the group

    def _forget_if_gone(self) -> None:
        if self.process is not None and self.process.poll() is not None and self in RUNNING:
            RUNNING.remove(self)

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_all() -> None:
    for server in list(RUNNING):
        server.stop()


atexit.register(stop_all)
