"""How `make reliability` reads a scenario's numbers off DevLab's /metrics (reliability/metrics.py).

``metrics_scrapes/`` holds two real scrapes of one gunicorn server (multi-process
mode). Before the first: the readiness probe, a signup, a login and a note. Between
the two: three note lists as that user (``THROTTLE_USER=3/min``: the third is 429),
five wrong passwords (401), the right one (429, locked out), a 404, and the
first scrape itself.
"""

import math
from pathlib import Path

import pytest

from reliability.metrics import Histogram, Recorder, parse, summarize

SCRAPES = Path(__file__).parent / "metrics_scrapes"


@pytest.fixture
def first():
    return parse((SCRAPES / "first.txt").read_text())


@pytest.fixture
def second():
    return parse((SCRAPES / "second.txt").read_text())


def test_a_scrape_counts_every_request_but_the_scrapers_own(second):
    summary = summarize(second)
    assert summary.requests == 14
    assert summary.by_status == {"200": 4, "201": 2, "401": 5, "404": 1, "429": 2}
    assert summary.server_errors == 0
    assert [(r.route, r.requests) for r in summary.routes] == [
        ("api/auth/login/", 7),
        ("api/notes/$", 4),
        ("readyz", 1),
        ("api/auth/signup/", 1),
        ("<unresolved>", 1),
    ]


def test_what_happened_between_two_scrapes_is_their_difference(first, second):
    summary = summarize(second.since(first))
    assert summary.by_status == {"200": 2, "401": 5, "404": 1, "429": 2}
    assert summary.audit_by_action == {"login_failed": 5, "login_throttled": 1}
    assert (summary.login_failures, summary.lockouts, summary.rate_refused) == (5, 1, 0)
    assert summary.throttled == {"user": 1}


def test_audit_rows_and_the_chain_lock(second):
    summary = summarize(second)
    assert summary.audit_rows == 9
    assert summary.lock_held_seconds == pytest.approx(0.0899, abs=1e-4)


def test_latency_and_statements_come_from_the_histograms(second):
    login = next(r for r in summarize(second).routes if r.route == "api/auth/login/")
    # 7 logins: 3 up to 1 s, 4 more up to 2.5 s; rank 0.99 * 7 = 6.93 lies 3.93/4 into (1, 2.5].
    assert login.p99_ms == pytest.approx(1000 + 1500 * 3.93 / 4)
    assert login.queries_mean == pytest.approx(74 / 7)


def test_checkpoint_age_is_infinite_before_the_first_checkpoint(second):
    assert math.isinf(summarize(second).checkpoint_age_seconds)


def test_checkpoint_age_is_a_gauge_taken_as_it_is_not_a_difference(first, second):
    first.values[("devlab_audit_checkpoint_age_seconds", ())] = 30.0
    second.values[("devlab_audit_checkpoint_age_seconds", ())] = 90.0
    assert summarize(second.since(first)).checkpoint_age_seconds == 90.0


def test_5xx_are_counted_by_route():
    text = (
        "# TYPE devlab_http_requests counter\n"
        'devlab_http_requests_total{method="POST",route="api/notes/$",status="503"} 3.0\n'
        'devlab_http_requests_total{method="POST",route="api/notes/$",status="201"} 7.0\n'
        'devlab_http_requests_total{method="GET",route="readyz",status="503"} 2.0\n'
    )
    summary = summarize(parse(text))
    assert (summary.requests, summary.server_errors) == (12, 5)
    assert [(r.route, r.server_errors) for r in summary.routes] == [("api/notes/$", 3), ("readyz", 2)]


def test_quantiles_interpolate_within_a_bucket_like_histogram_quantile():
    latency = Histogram({0.1: 2, 0.5: 6, math.inf: 8}, total=3.0)
    assert latency.quantile(0.5) == pytest.approx(0.3)  # rank 4: halfway from 0.1 to 0.5
    assert latency.quantile(0.99) == 0.5  # in +Inf: the highest finite bound
    assert Histogram({math.inf: 0}, total=0.0).quantile(0.5) is None


def test_a_scrape_outside_a_scenario_is_not_recorded():
    class Stopped:
        def alive(self):
            raise AssertionError("not even looked at")

    recorder = Recorder()
    recorder.scrape(Stopped())
    assert recorder.scrapes == []
