"""audit/progress.py: a throttled progress line on terminals only, and a cheap total."""

from io import StringIO

import pytest
from django.core.management.base import BaseCommand, OutputWrapper
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEntry
from audit.progress import Progress, row_total
from audit.services import audit_record


class Terminal(StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _progress(total, *, enabled=True, stream=None):
    clock = Clock()
    stream = stream if stream is not None else Terminal()
    return Progress(stream, total=total, enabled=enabled, interval=0.5, clock=clock), stream, clock


def test_the_line_shows_done_of_total_the_rate_and_the_eta():
    progress, _, clock = _progress(10_000)
    clock.now += 2
    progress.done = 2_500
    assert progress.line() == "2,500/10,000 rows (25%), 1,250 rows/s, ETA 0:00:06"


def test_without_a_total_the_line_shows_the_count_rate_and_elapsed_time():
    progress, _, clock = _progress(None)
    clock.now += 4
    progress.done = 1_000
    assert progress.line() == "1,000 rows, 250 rows/s, 0:00:04 elapsed"


def test_an_estimated_total_below_the_rows_done_is_never_shown():
    progress, _, clock = _progress(10)
    clock.now += 1
    progress.done = 15
    assert progress.line().startswith("15/15 rows (100%)")


def test_it_redraws_in_place_at_most_once_an_interval():
    progress, stream, clock = _progress(100)
    progress.update(1)  # before the first interval: nothing yet
    assert stream.getvalue() == ""
    clock.now += 0.5
    progress.update(50)
    progress.update(51)  # same instant: throttled
    clock.now += 0.25
    progress.update(60)  # still within the interval
    clock.now += 0.25
    progress.update(100)
    assert stream.getvalue().count("\r") == 2
    assert stream.getvalue().startswith("\r50/100 rows (50%)")
    assert "\r100/100 rows (100%)" in stream.getvalue()


def test_a_shorter_line_wipes_the_rest_of_the_longer_one_before_it():
    progress, stream, clock = _progress(None)
    clock.now += 0.5
    progress.update(1_000_000)
    first = stream.getvalue()
    clock.now += 5000
    progress.update(1_000_001)
    second = stream.getvalue()[len(first) :]
    assert len(second) >= len(first)


def test_finish_draws_the_exact_count_and_ends_the_line():
    progress, stream, clock = _progress(1_000_000)  # an estimate
    clock.now += 1
    progress.update(999_000)
    progress.finish()
    last = stream.getvalue().rsplit("\r", 1)[1]
    assert last.endswith("\n")
    assert last.rstrip() == "999,000/999,000 rows (100%), 999,000 rows/s, ETA 0:00:00"


def test_disabled_it_writes_nothing():
    progress, stream, clock = _progress(10, enabled=False)
    clock.now += 10
    progress.update(5)
    progress.finish()
    assert stream.getvalue() == ""


class _Command(BaseCommand):
    pass


@pytest.mark.parametrize(
    ("stderr", "verbosity", "shown"),
    [(Terminal(), 1, True), (Terminal(), 2, True), (Terminal(), 0, False), (StringIO(), 1, False)],
)
def test_a_command_shows_it_on_a_terminal_stderr_unless_verbosity_is_zero(stderr, verbosity, shown):
    totals = []
    progress = Progress.for_command(_Command(stderr=stderr), verbosity, lambda: totals.append(1) or 7)
    assert progress.enabled is shown
    # The total is only worked out when someone will see it.
    assert totals == ([1] if shown else [])
    assert progress.total == (7 if shown else None)


def test_on_a_command_it_is_written_without_the_error_colour():
    stderr = Terminal()
    wrapper = OutputWrapper(stderr)
    wrapper.style_func = lambda text: f"\x1b[31m{text}\x1b[0m"
    progress = Progress(wrapper, total=1, enabled=True, interval=0)
    progress.update(1)
    progress.finish()
    assert "\x1b" not in stderr.getvalue()
    assert stderr.getvalue().rsplit("\r", 1)[1].startswith("1/1 rows (100%), ")


@pytest.mark.django_db
def test_a_filtered_total_is_an_exact_count():
    for _ in range(3):
        audit_record(action=Action.LOGOUT, actor_username="cli")
    audit_record(action=Action.LOGIN_FAILED)
    assert row_total(AuditEntry.objects.filter(action=Action.LOGOUT)) == 3


@pytest.mark.django_db
def test_an_unfiltered_total_is_exact_where_there_are_no_statistics():
    for _ in range(3):
        audit_record(action=Action.LOGOUT, actor_username="cli")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as after CREATE TABLE, before any ANALYZE
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'audit_auditentry'")
            if cursor.fetchone()[0] >= 0:
                pytest.skip("the test table has statistics already")
    assert row_total(AuditEntry.objects.all()) == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_unfiltered_total_on_postgresql_is_the_planners_estimate_not_a_scan():
    for _ in range(5):
        audit_record(action=Action.LOGOUT, actor_username="cli")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")
    with CaptureQueriesContext(connection) as queries:
        assert row_total(AuditEntry.objects.order_by("created_at", "id")) == 5
    assert len(queries) == 1
    assert "pg_class" in queries[0]["sql"]
    assert "count(" not in queries[0]["sql"].lower()
