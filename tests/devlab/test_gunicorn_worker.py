"""DevLab's gunicorn workers, on worker objects with only the state each rule uses.
(``tests/audit/test_export_live.py`` shows them on a live gunicorn: a long export
outlives the timeout, and a busy worker leaves new connections to the others.)"""

import errno
import selectors
import socket
import sys
import threading
import time
from collections import deque
from types import SimpleNamespace

import pytest

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
    worker.nr_conns, worker.serving = 0, False
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


def test_inline_a_new_connection_waits_in_the_poller_until_its_request_arrives(inline, listener):
    with socket.create_connection(listener.getsockname()) as client:
        inline.accept(listener)
        assert inline.served == []  # a client that sends nothing holds up no one
        (conn,) = inline.pending_conns
        assert inline.nr_conns == 1
        _dispatch(inline, timeout=0.05)
        assert inline.served == []
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        _dispatch(inline)
        assert [served for served, _, _ in inline.served] == [conn]
        assert conn.data_ready
        assert not inline.pending_conns
        conn.sock.close()


def test_inline_a_new_connection_whose_request_is_there_is_served_at_once(inline, listener):
    # So a worker takes one new connection per request it serves, as the busy rule did:
    # connections opened together spread over the workers instead of piling up in one.
    with socket.create_connection(listener.getsockname()) as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.05)  # the bytes reach the server's socket
        inline.accept(listener)
        assert not inline.pending_conns
        ((conn, _, _),) = inline.served
        assert conn.data_ready
        conn.sock.close()


def test_inline_a_worker_waiting_for_a_request_lets_idle_ones_accept_first(inline, listener, sleeps):
    with socket.create_connection(listener.getsockname()), socket.create_connection(listener.getsockname()):
        inline.accept(listener)  # nothing sent yet: pending
        assert sleeps == []
        inline.accept(listener)
        assert sleeps == [gunicorn_worker.BUSY_ACCEPT_DELAY_SECONDS]
        for conn in inline.pending_conns:
            conn.sock.close()


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
