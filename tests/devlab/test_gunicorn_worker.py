"""DevLab's gthread worker: its accept rules, on a worker object with only the state they use.
(``tests/audit/test_export_live.py`` shows the long-request rule on a live gunicorn.)"""

import errno
import time
from types import SimpleNamespace

import pytest

from devlab import gunicorn_worker
from devlab.gunicorn_worker import LONG_REQUEST_SECONDS, LongRequestAwareThreadWorker


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
