"""devlab.background: work after the response, in a thread with the request's context."""

import logging
import threading

import pytest
from django.db import transaction

from devlab import background, context

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(monkeypatch):
    """The threads run_after_commit starts (real ones), to join them."""
    threads: list[threading.Thread] = []
    real = threading.Thread

    def spy(*args, **kwargs):
        thread = real(*args, **kwargs)
        threads.append(thread)
        return thread

    monkeypatch.setattr(background.threading, "Thread", spy)
    return threads


def test_the_task_runs_in_another_thread_after_the_commit_with_the_requests_context(
    started, django_capture_on_commit_callbacks
):
    seen = {}

    def task():
        seen["thread"] = threading.current_thread().name
        seen["request_id"] = context.current().request_id

    token = context.activate(context.RequestContext(request_id="req-bg", ip="203.0.113.1", user_agent="ua"))
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            background.run_after_commit(task, name="bg-test")
        assert started == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        context.deactivate(token)
    (thread,) = started
    thread.join(timeout=10)
    assert seen == {"thread": "bg-test", "request_id": "req-bg"}


@pytest.mark.django_db(transaction=True)
def test_nothing_starts_when_the_transaction_rolls_back(started):
    @transaction.atomic
    def failing_action():
        background.run_after_commit(lambda: None, name="never")
        raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_action()
    assert started == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_logged_not_raised(started, caplog):
    def task():
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="devlab.background"):
        background.run_after_commit(task, name="failing")
        started[0].join(timeout=10)
    (record,) = [r for r in caplog.records if r.name == "devlab.background"]
    assert record.getMessage() == "background task failing failed"
    assert record.exc_info[0] is ValueError
