"""/metrics: what is counted, who may read it, and that it holds no user data."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from devlab import metrics
from tests.accounts.helpers import log_in
from tests.factories import NoteFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-0123456789abcdef"
OUTSIDE = "203.0.113.50"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client=None, **extra) -> dict[tuple[str, tuple], float]:
    response = (client or APIClient()).get("/metrics", REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


# ---------------------------------------------------------------- counters move
def test_a_request_is_counted_by_route_method_and_status_never_by_path(user_client, user):
    note = NoteFactory(owner=user)
    route = "api/notes/(?P<pk>[0-9]+)/$"
    before = sample("devlab_http_requests_total", route=route, method="GET", status="200")
    assert user_client.get(f"/api/notes/{note.pk}/").status_code == 200
    assert sample("devlab_http_requests_total", route=route, method="GET", status="200") == before + 1
    assert sample("devlab_http_request_duration_seconds_count", route=route, method="GET") >= 1
    assert sample("devlab_db_queries_per_request_count", route=route) >= 1


def test_database_statements_per_request_are_counted(user_client, user):
    NoteFactory(owner=user)
    route = "api/notes/$"
    before = sample("devlab_db_queries_per_request_sum", route=route)
    assert user_client.get("/api/notes/").status_code == 200
    # At least the notes page itself (force_authenticate needs no user query).
    assert sample("devlab_db_queries_per_request_sum", route=route) >= before + 1


def test_healthz_touches_no_database_and_counts_zero_statements(api_client):
    before = sample("devlab_db_queries_per_request_sum", route="healthz")
    count = sample("devlab_db_queries_per_request_count", route="healthz")
    api_client.get("/healthz")
    assert sample("devlab_db_queries_per_request_count", route="healthz") == count + 1
    assert sample("devlab_db_queries_per_request_sum", route="healthz") == before


def test_an_unknown_path_is_one_unresolved_route(api_client):
    before = sample("devlab_http_requests_total", route="<unresolved>", method="GET", status="404")
    api_client.get("/wp-admin/setup-config.php?step=1")
    api_client.get("/no/such/path/12345")
    assert sample("devlab_http_requests_total", route="<unresolved>", method="GET", status="404") == before + 2


def test_an_odd_method_does_not_become_a_label(api_client):
    before = sample("devlab_http_requests_total", route="healthz", method="other", status="405")
    api_client.generic("BREW", "/healthz")
    assert sample("devlab_http_requests_total", route="healthz", method="other", status="405") == before + 1


@pytest.mark.django_db(transaction=True)
def test_committed_audit_rows_and_chain_lock_times_are_counted(user_client):
    rows = sample("devlab_audit_rows_appended_total", action="note_created")
    held = sample("devlab_audit_chain_lock_held_seconds_count")
    waits = sample("devlab_audit_chain_lock_wait_seconds_count")
    assert user_client.post("/api/notes/", {"text": "x"}).status_code == 201
    assert sample("devlab_audit_rows_appended_total", action="note_created") == rows + 1
    assert sample("devlab_audit_chain_lock_held_seconds_count") == held + 1
    assert sample("devlab_audit_chain_lock_wait_seconds_count") == waits + 1


@pytest.mark.django_db(transaction=True)
def test_an_audit_row_rolled_back_is_not_counted(user):
    from django.db import transaction

    from audit.services import audit_record

    def append_then_fail():
        with transaction.atomic():
            audit_record(action="profile_updated", actor=user, target=user)
            raise RuntimeError

    rows = sample("devlab_audit_rows_appended_total", action="profile_updated")
    with pytest.raises(RuntimeError):
        append_then_fail()
    assert sample("devlab_audit_rows_appended_total", action="profile_updated") == rows


def test_login_failures_lockout_refusals_and_rate_refusals_are_counted(api_client, user, monkeypatch):
    failures = sample("devlab_login_failures_total")
    lockouts = sample("devlab_login_refused_total", reason="lockout")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert log_in(api_client, "alice", "wrong", REMOTE_ADDR=OUTSIDE).status_code == 401
    assert log_in(api_client, "alice", REMOTE_ADDR=OUTSIDE).status_code == 429
    assert sample("devlab_login_failures_total") == failures + settings.LOGIN_FAILURE_LIMIT
    assert sample("devlab_login_refused_total", reason="lockout") == lockouts + 1

    from api.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "login", "1/min")
    rate = sample("devlab_login_refused_total", reason="rate")
    throttled = sample("devlab_throttled_requests_total", scope="login")
    log_in(api_client, "bob", "x", REMOTE_ADDR="198.51.100.20")
    assert log_in(api_client, "bob", "x", REMOTE_ADDR="198.51.100.20").status_code == 429
    assert sample("devlab_login_refused_total", reason="rate") == rate + 1
    assert sample("devlab_throttled_requests_total", scope="login") == throttled + 1


def test_throttled_requests_are_counted_by_scope(api_client, monkeypatch):
    from api.throttling import AnonRateThrottle

    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "1/min")
    before = sample("devlab_throttled_requests_total", scope="anon")
    statuses = [api_client.get("/api/auth/signup/", REMOTE_ADDR="198.51.100.30").status_code for _ in range(3)]
    assert statuses.count(429) == 2
    assert sample("devlab_throttled_requests_total", scope="anon") == before + 2


def test_a_request_over_a_rate_that_is_refused_for_its_body_is_not_counted_as_throttled(api_client, monkeypatch):
    # DRF asks every throttle before it answers; the per-address reset throttle reads
    # the body, and a body that does not parse is a 400, not the per-IP limit's 429.
    from api.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "password_reset", "1/hour")
    reset, address = "/api/auth/password-reset/", {"REMOTE_ADDR": "198.51.100.40"}
    assert api_client.post(reset, {"email": "x@example.com"}, format="json", **address).status_code == 202
    before = sample("devlab_throttled_requests_total", scope="password_reset")
    refused = api_client.post(reset, "{not json", content_type="application/json", **address)
    assert refused.status_code == 400
    assert sample("devlab_throttled_requests_total", scope="password_reset") == before
    assert api_client.post(reset, {"email": "x@example.com"}, format="json", **address).status_code == 429
    assert sample("devlab_throttled_requests_total", scope="password_reset") == before + 1


def test_a_failed_admin_site_login_counts_as_a_login_failure(client, user):
    before = sample("devlab_login_failures_total")
    client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    assert sample("devlab_login_failures_total") == before + 1


# ---------------------------------------------------------------- checkpoint age
def test_no_checkpoint_model_means_no_checkpoint_age_metric():
    if metrics.checkpoint_model() is not None:
        pytest.skip("this build has audit.Checkpoint")
    assert not [key for key in scrape() if key[0] == "devlab_audit_checkpoint_age_seconds"]


def test_the_checkpoint_age_is_the_seconds_since_the_newest_checkpoint(monkeypatch):
    monkeypatch.setattr(metrics, "checkpoint_model", lambda: object())
    monkeypatch.setattr(metrics, "last_checkpoint_at", lambda: timezone.now() - timedelta(seconds=90))
    age = scrape()[("devlab_audit_checkpoint_age_seconds", ())]
    assert 90 <= age < 100


def test_the_checkpoint_age_is_infinite_before_the_first_checkpoint(monkeypatch):
    monkeypatch.setattr(metrics, "checkpoint_model", lambda: object())
    monkeypatch.setattr(metrics, "last_checkpoint_at", lambda: None)
    assert scrape()[("devlab_audit_checkpoint_age_seconds", ())] == float("inf")


# ---------------------------------------------------------------- who may read it
def test_loopback_may_read_the_metrics():
    assert ("devlab_login_failures_total", ()) in scrape()


def test_ipv6_loopback_may_read_the_metrics():
    assert APIClient().get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_another_address_is_refused_with_403():
    response = APIClient().get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert b"devlab_" not in response.content


def test_a_forged_forwarded_for_does_not_make_a_client_loopback():
    response = APIClient().get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 403


def test_through_a_trusted_proxy_the_real_client_counts_not_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    response = APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert response.status_code == 403


def test_allowed_networks_are_cidrs(settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert APIClient().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_the_token_opens_it_from_anywhere(settings):
    settings.METRICS_TOKEN = TOKEN
    response = APIClient().get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer ", "Bearer"],
)
def test_a_wrong_token_is_refused(settings, header):
    settings.METRICS_TOKEN = TOKEN
    assert APIClient().get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=header).status_code == 403


def test_with_no_token_configured_an_empty_bearer_is_refused(settings):
    settings.METRICS_TOKEN = ""
    assert APIClient().get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_only_safe_methods(settings):
    assert APIClient().post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_the_metrics_are_never_cached():
    response = APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_with_https_only_prometheus_may_still_scrape_over_http(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


# ---------------------------------------------------------------- no user data
def test_no_username_path_id_or_note_text_ever_reaches_the_metrics(api_client, user, user_client):
    note = NoteFactory(owner=user, text="secret-note-text")
    user_client.get(f"/api/notes/{note.pk}/?search=secret-query")
    user_client.get(f"/api/notes/{note.pk + 987654}/")
    log_in(api_client, "mallory-attempted", "hunter2-password", REMOTE_ADDR=OUTSIDE)
    api_client.get("/admin/accounts/user/424242/change/")
    text = APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    for secret in ("alice", "mallory", "hunter2", "secret", str(note.pk + 987654), "424242", OUTSIDE):
        assert secret not in text


# ---------------------------------------------------------------- several processes
def test_the_metrics_of_several_worker_processes_add_up(tmp_path):
    """gunicorn's multi-process mode: each process writes its own files, /metrics sums them."""
    env = {
        **os.environ,
        "DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    worker = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'devlab.settings'); django.setup();"
        "from django.test import Client; c = Client(HTTP_HOST='localhost');"
        "r = c.get('/healthz', REMOTE_ADDR='127.0.0.1'); assert r.status_code == 200;"
        "print(c.get('/metrics', REMOTE_ADDR='127.0.0.1').content.decode())"
    )
    outputs = [
        subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", worker], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        for _ in range(3)
    ]
    line = 'devlab_http_requests_total{method="GET",route="healthz",status="200"} 3.0'
    assert line in outputs[-1].stdout
    assert len(list(tmp_path.glob("counter_*.db"))) == 3
