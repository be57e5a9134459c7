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


def test_while_one_thread_streams_an_export_the_same_worker_answers_a_kept_alive_connection(live):
    token = log_in(live.url, live.admin_username, live.admin_password)
    export = _connect(live.url, timeout=60)
    export.connect()
    export.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    export.request("GET", "/api/audit/logs/export/?format=jsonl", headers={"Authorization": f"Bearer {token}"})
    streaming = export.getresponse()
    body = bytearray(streaming.read(READ_SIZE))
    # The export's thread is now stuck sending: this client reads no further until the end,
    # and the ~14 MB cannot fit in the socket buffers. One worker, so only its second
    # thread can answer; with a single thread these requests would wait (and time out).
    other = _connect(live.url, timeout=10)
    sockets, statuses = [], []
    for _ in range(2):
        other.request("GET", "/healthz")
        response = other.getresponse()
        response.read()
        statuses.append(response.status)
        sockets.append(other.sock)  # http.client drops the socket when the server closes it
    other.close()
    while chunk := streaming.read(READ_SIZE):
        body += chunk
    export.close()
    assert statuses == [200, 200]
    assert sockets[0] is not None
    assert sockets[1] is sockets[0]  # one connection, kept alive
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
