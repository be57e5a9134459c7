"""The export over HTTP streams to the end however long it takes: a live gunicorn
(``scripts/liveserver/``: the production command, ``DEBUG=False``) with a
deliberately short ``GUNICORN_TIMEOUT`` and a slow reader, every row counted.

A sync worker reports to gunicorn's master only between requests, so the master
killed any request longer than the timeout (30 s in production: about 2
million rows). ``test_a_sync_worker_cuts_the_same_export_off`` keeps the proof
that this setup would catch it.
"""

import http.client
import json
import socket
import time

import psycopg
import pytest

from devlab.gunicorn_worker import LONG_REQUEST_SECONDS
from scripts.liveserver import GunicornServer, LiveDevLab, live_devlab, log_in, manage, rss_kib

pytestmark = pytest.mark.postgres_only

TIMEOUT = 3  # seconds: GUNICORN_TIMEOUT of these servers
ROWS = 30_000  # about 14 MB of JSONL: far more than the socket buffers hold
READ_SIZE = 64 * 1024
READ_PAUSE = 0.04  # about 1.5 MB/s: the download takes three timeouts or more


@pytest.fixture(scope="module")
def live() -> LiveDevLab:
    with live_devlab(workers=1, label="export", extra_env={"GUNICORN_TIMEOUT": str(TIMEOUT)}) as server:
        manage({**server.env, "DEVLAB_DEMO": "True"}, "seed_audit", f"--rows={ROWS}", "--force")
        yield server


def _slow_export(base_url: str, token: str, worker: int) -> tuple[bytes, float, int, str | None]:
    """Reads the whole JSONL export slowly; returns the body, the seconds it took, the
    worker's largest RSS growth (KiB) while it streamed, and the error that ended it early."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.connect()
    # A small receive window: the server cannot hand the body to the kernel and be done.
    connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    started = time.monotonic()
    connection.request("GET", "/api/audit/logs/export/?format=jsonl", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    assert response.status == 200
    body, error = bytearray(), None
    baseline = peak = rss_kib(worker) or 0
    try:
        while chunk := response.read(READ_SIZE):
            body += chunk
            peak = max(peak, rss_kib(worker) or 0)
            time.sleep(READ_PAUSE)
    except (http.client.HTTPException, OSError) as exc:
        error = repr(exc)
    finally:
        connection.close()
    return bytes(body), time.monotonic() - started, peak - baseline, error


def test_an_export_longer_than_the_worker_timeout_streams_every_row(live):
    (worker,) = live.server.worker_pids()
    token = log_in(live.url, live.admin_username, live.admin_password)
    with psycopg.connect(live.database_url) as db:  # the seeded rows and the logins
        (rows,) = db.execute("SELECT count(*) FROM audit_auditentry").fetchone()
    assert rows > ROWS
    body, seconds, growth_kib, error = _slow_export(live.url, token, worker)
    print(f"{rows} rows, {len(body):,} bytes in {seconds:.1f} s, worker RSS +{growth_kib} KiB")
    assert error is None
    assert seconds > 2 * TIMEOUT  # the request really outlived the timeout, twice over
    ids = [json.loads(line)["id"] for line in body.splitlines()]
    assert sorted(ids) == list(range(1, rows + 1))  # every row, once
    assert live.server.worker_pids() == [worker]  # the same worker, never killed
    # Memory stays flat: rows go out in chunks, the ~14 MB body is never held (nor its dicts).
    assert growth_kib < 12 * 1024, f"the worker grew by {growth_kib} KiB while streaming"


def _connect(base_url: str, timeout: float) -> http.client.HTTPConnection:
    host, port = base_url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def _stuck_export(base_url: str, token: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    """An export whose reader has stopped after the first chunk: its worker's thread is stuck
    sending (the ~14 MB cannot fit in the socket buffers) until the reader goes on."""
    export = _connect(base_url, timeout=60)
    export.connect()
    export.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    export.request("GET", "/api/audit/logs/export/?format=jsonl", headers={"Authorization": f"Bearer {token}"})
    streaming = export.getresponse()
    assert streaming.status == 200
    return export, streaming


def test_a_worker_busy_with_a_long_export_leaves_new_connections_to_the_others(live, tmp_path):
    with GunicornServer(live.env, 2, tmp_path / "two.log", GUNICORN_TIMEOUT=str(TIMEOUT)) as server:
        token = log_in(server.base_url, live.admin_username, live.admin_password)
        export, streaming = _stuck_export(server.base_url, token)
        body = bytearray(streaming.read(READ_SIZE))
        time.sleep(2 * LONG_REQUEST_SECONDS + 1)  # the busy worker's event loop has noticed
        # Each worker has one thread. Stock gthread with keep-alive would accept about half
        # of these in the busy worker, where they would wait for the export (and time out).
        statuses, kept_alive = [], []
        for _ in range(10):
            other = _connect(server.base_url, timeout=10)
            for _ in range(2):
                other.request("GET", "/healthz")
                response = other.getresponse()
                response.read()
                statuses.append(response.status)
                kept_alive.append(other.sock is not None)  # http.client drops a socket the server closed
            other.close()
        while chunk := streaming.read(READ_SIZE):
            body += chunk
        export.close()
    assert statuses == [200] * 20
    assert all(kept_alive)  # each connection served both of its requests
    assert len(body.splitlines()) > ROWS  # and the export still went to the end


def test_a_sync_worker_cuts_the_same_export_off(live, tmp_path):
    with GunicornServer(
        live.env, 1, tmp_path / "sync.log", GUNICORN_TIMEOUT=str(TIMEOUT), GUNICORN_WORKER_CLASS="sync"
    ) as server:
        (worker,) = server.worker_pids()
        token = log_in(server.base_url, live.admin_username, live.admin_password)
        body, seconds, _, error = _slow_export(server.base_url, token, worker)
    print(f"sync: {len(body.splitlines())} rows in {seconds:.1f} s, then {error}")
    assert error is not None or len(body.splitlines()) < ROWS
    assert "WORKER TIMEOUT" in (tmp_path / "sync.log").read_text()
