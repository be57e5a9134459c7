"""DevLab's gunicorn workers, on worker objects with only the state each rule uses.
(``tests/audit/test_export_live.py`` shows them on a live gunicorn: a long export
outlives the timeout, and a busy worker leaves new connections to the others.)"""

import errno
import http.client
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from devlab import gunicorn_worker
from devlab.gunicorn_worker import LONG_REQUEST_SECONDS, InlineWorker, LongRequestAwareThreadWorker


class Taken:
    """A listener whose connection another worker accepted first."""

    def accept(self):
        raise BlockingIOError(errno.EAGAIN, "taken")


@pytest.fixture
def worker():
    worker = LongRequestAwareThreadWorker.__new__(LongRequestAwareThreadWorker)
    worker.cfg = SimpleNamespace(threads=1)
    worker.in_hand = {}
    return worker


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(gunicorn_worker.time, "sleep", slept.append)
    return slept


def test_an_idle_worker_accepts_at_once(worker, sleeps):
    worker.accept(Taken())
    assert sleeps == []


def test_a_busy_worker_lets_idle_ones_go_first(worker, sleeps):
    worker.in_hand["connection"] = time.monotonic()
    worker.accept(Taken())
    assert sleeps == [gunicorn_worker.BUSY_ACCEPT_DELAY_SECONDS]


def test_only_a_request_in_hand_for_long_makes_the_worker_stop_accepting(worker):
    assert not worker.long_request_in_hand()
    worker.in_hand["short"] = time.monotonic()
    assert not worker.long_request_in_hand()
    worker.in_hand["export"] = time.monotonic() - LONG_REQUEST_SECONDS - 0.1
    assert worker.long_request_in_hand()


@pytest.fixture
def inline():
    """An InlineWorker with a real poller; ``handle`` records what it serves, on which thread."""
    worker = InlineWorker.__new__(InlineWorker)
    worker.cfg = SimpleNamespace(threads=1, keepalive=5, is_ssl=False)
    worker.poller = selectors.DefaultSelector()
    worker.pending_conns, worker.keepalived_conns, worker.ready = deque(), deque(), deque()
    worker.nr_conns, worker.serving, worker.alive, worker.worker_connections = 0, False, True, 32
    worker.served, worker.finished = [], []

    def handle(conn):
        worker.served.append((conn, threading.get_ident(), worker.serving))
        return False

    worker.handle = handle
    worker.finish_request = lambda conn, fs: worker.finished.append((conn, fs.result()))
    yield worker
    worker.poller.close()


@pytest.fixture
def listener():
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        yield server


def _dispatch(worker, timeout=1.0):
    for key, _ in worker.poller.select(timeout):
        key.data(key.fileobj)


def test_inline_a_request_is_served_on_the_loop_thread_and_finished_there(inline):
    inline.enqueue_req("connection")
    assert inline.served == [("connection", threading.get_ident(), True)]
    assert inline.finished == [("connection", False)]
    assert not inline.serving


def _request(client):
    client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")


def test_inline_a_new_connection_waits_in_the_poller_until_its_request_arrives(inline, listener):
    with socket.create_connection(listener.getsockname()) as client:
        inline.accept(listener)
        assert inline.served == []  # a client that sends nothing holds up no one
        (conn,) = inline.pending_conns
        assert inline.nr_conns == 1
        _dispatch(inline, timeout=0.05)
        assert inline.served == []
        _request(client)
        _dispatch(inline)
        assert [served for served, _, _ in inline.served] == [conn]
        assert conn.data_ready
        assert not inline.pending_conns
        conn.sock.close()


def test_inline_a_new_connection_is_given_a_moment_for_its_request(inline, listener, monkeypatch):
    waits = []
    monkeypatch.setattr(gunicorn_worker.TConn, "wait_for_data", lambda conn, timeout: waits.append(timeout))
    with socket.create_connection(listener.getsockname()):
        inline.accept(listener)
    assert waits == [gunicorn_worker.FIRST_BYTES_SECONDS]  # the worker is busy meanwhile: others accept
    inline.pending_conns[0].sock.close()


def test_inline_every_waiting_connection_with_a_request_is_taken_and_served_at_once(inline, listener):
    # One per turn of the loop, as gthread accepts, took seconds for 64 connections opened at
    # once when each turn also serves every ready request.
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    for client in clients:
        _request(client)
    inline.worker_connections = 2  # as many as the worker may hold
    inline.accept(listener)
    assert len(inline.served) == 2
    assert not inline.pending_conns
    inline.worker_connections = 3
    inline.accept(listener)
    assert len(inline.served) == 3
    for (conn, _, _), client in zip(inline.served, clients, strict=True):
        conn.sock.close()
        client.close()


def test_inline_taking_stops_at_a_connection_whose_request_has_not_come(inline, listener):
    # It did not keep the worker busy: the next connection is left to the other workers.
    first = socket.create_connection(listener.getsockname())
    second = socket.create_connection(listener.getsockname())
    inline.accept(listener)
    assert (len(inline.pending_conns), inline.nr_conns) == (1, 1)
    inline.pending_conns[0].sock.close()
    first.close()
    second.close()


def test_inline_every_connection_held_may_be_kept_alive():
    # gthread keeps a slot per thread for the request in hand, so with all slots taken it
    # closed the connection it had just served: clients reconnected, and waited to be accepted.
    config = Config()
    config.set("worker_connections", 32)
    worker = InlineWorker(0, os.getpid(), [], None, 30, config, SimpleNamespace(debug=print))
    assert worker.max_keepalived == 32


def test_inline_a_connection_that_never_sends_is_closed_after_the_data_timeout(inline, listener, monkeypatch):
    with socket.create_connection(listener.getsockname()) as client:
        inline.accept(listener)
        (conn,) = inline.pending_conns
        assert conn.timeout - time.monotonic() == pytest.approx(gunicorn_worker.DEFAULT_WORKER_DATA_TIMEOUT, abs=1)
        conn.timeout = time.monotonic() - 1
        inline.murder_pending()
        assert (inline.pending_conns, inline.nr_conns, inline.served) == (deque(), 0, [])
        assert client.recv(1) == b""  # closed


def test_inline_a_connection_another_worker_took_is_ignored(inline):
    inline.accept(Taken())
    assert (inline.nr_conns, inline.pending_conns) == (0, deque())


def test_inline_pipelined_requests_are_served_in_turn_not_by_recursion(inline):
    requests = sys.getrecursionlimit() + 100

    def finish_request(conn, fs):  # as gthread's does when the next request is already read
        inline.finished.append(conn)
        if len(inline.finished) < requests:
            inline.enqueue_req(conn)

    inline.finish_request = finish_request
    inline.enqueue_req("pipelining client")
    assert len(inline.served) == requests
    assert not inline.serving


def test_inline_the_heartbeat_tells_the_master_it_is_alive_only_while_a_request_is_served(inline):
    beats = []
    inline.notify = lambda: beats.append(inline.serving)
    inline.beat()  # idle: the loop notifies by itself
    inline.handle = lambda conn: inline.beat() or False  # a request as long as a heartbeat
    inline.enqueue_req("export")
    assert beats == [True]


def test_inline_warns_that_it_ignores_more_threads():
    warnings = []
    config = SimpleNamespace(threads=4, worker_connections=32, keepalive=5)
    InlineWorker.check_config(config, SimpleNamespace(warning=lambda *args: warnings.append(args)))
    assert [args[1:] for args in warnings] == [(4,)]


@pytest.fixture
def live_inline_worker():
    """A live gunicorn with one InlineWorker and keep-alive, serving tests/devlab/wsgi_hello.py."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "gunicorn", "tests.devlab.wsgi_hello:app", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "devlab.gunicorn_worker.InlineWorker", "--keep-alive", "5"]
    server = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2], stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def test_inline_a_kept_alive_connection_is_closed_after_its_quota_of_requests(live_inline_worker):
    # Else connections stay where they were first taken, and a restarted worker gets none back.
    connection = http.client.HTTPConnection("127.0.0.1", live_inline_worker, timeout=5)
    headers = []
    for _ in range(gunicorn_worker.REQUESTS_PER_CONNECTION):
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        headers.append(response.getheader("Connection"))
    assert set(headers[:-1]) == {"keep-alive"}
    assert headers[-1] == "close"
    assert connection.sock is None  # http.client closed its end on "Connection: close"
    connection.close()
