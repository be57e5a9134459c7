"""The servers the scenarios start, signal and kill, always by their own pids.

gunicorn is the live-server harness's (scripts/liveserver.py): the production
command in a process group of its own, so that "kill the whole instance" is one
``killpg`` of exactly the processes we started.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from reliability.metrics import RECORDER
from scripts.liveserver import GunicornServer, free_port


class Instance(GunicornServer):
    """One gunicorn master and its sync workers; ready once ``/healthz`` answers, because
    some scenarios start it while the database is meant to be failing."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 3, port: int | None = None, **overrides):
        super().__init__(env, workers, log, port=port, ready_path="/healthz", **overrides)

    def stop(self) -> None:
        RECORDER.scrape(self)  # its metrics, before they go with it
        super().stop()

    def kill(self) -> None:
        RECORDER.scrape(self)
        super().kill()


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
