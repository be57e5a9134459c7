"""Guarantees 1 and 2: success rows commit with their action; failure rows outlive their request.

Each case runs with ATOMIC_REQUESTS off (the default) and on, in the test's
transaction and (``transaction=True``) with real commits.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.factories import UserFactory

User = get_user_model()

pytestmark = [pytest.mark.urls("tests.audit.urls")]

TRANSACTION_MODES = [
    pytest.param(False, marks=pytest.mark.django_db, id="test-transaction"),
    pytest.param(True, marks=pytest.mark.django_db(transaction=True), id="real-commits"),
]


@pytest.fixture(params=[False, True], ids=["atomic-requests-off", "atomic-requests-on"])
def atomic_requests(request, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", request.param)
    return request.param


def _post(path, data, **extra):
    return APIClient().post(path, data, format="json", HTTP_X_REQUEST_ID="failing-request", **extra)


@pytest.mark.parametrize("real_commits", TRANSACTION_MODES)
def test_a_failed_login_is_recorded_although_its_request_rolls_back(atomic_requests, real_commits):
    response = _post("/api/test-audit/failed-login/", {"username": "mallory", "password": "guess"})
    assert response.status_code == 401
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.detail, entry.request_id) == ("mallory", "failing-request")
    if atomic_requests:  # the request's own write was rolled back, its audit row was not
        assert not User.objects.filter(username="written-by-the-failed-request").exists()


@pytest.mark.parametrize("real_commits", TRANSACTION_MODES)
def test_a_throttled_login_is_recorded_although_its_request_fails(atomic_requests, real_commits):
    response = _post("/api/test-audit/throttled-login/", {"username": "alice"})
    assert response.status_code == 429
    assert AuditEntry.objects.get(action="login_throttled").detail == "alice"


@pytest.mark.parametrize("real_commits", TRANSACTION_MODES)
def test_a_token_reuse_is_recorded_although_its_request_fails(atomic_requests, real_commits):
    victim = UserFactory(username="victim")
    response = _post("/api/test-audit/reused-token/", {"username": "victim"})
    assert response.status_code == 401
    assert AuditEntry.objects.get(action="token_reuse").actor_id == victim.pk


@pytest.mark.parametrize("real_commits", TRANSACTION_MODES)
def test_an_access_denied_is_recorded_although_its_request_fails(atomic_requests, real_commits):
    client = APIClient()
    client.force_authenticate(UserFactory(username="curious"))
    response = client.get("/api/audit/logs/", HTTP_X_REQUEST_ID="denied-request")
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action="access_denied")
    assert (entry.actor_username, entry.detail, entry.request_id) == (
        "curious",
        "GET /api/audit/logs/",
        "denied-request",
    )


@pytest.mark.parametrize("real_commits", TRANSACTION_MODES)
def test_a_success_row_commits_with_its_action(atomic_requests, real_commits):
    response = _post("/api/test-audit/signup/", {"username": "newcomer"})
    assert response.status_code == 201
    assert AuditEntry.objects.get(action="signup").actor_id == User.objects.get(username="newcomer").pk


@pytest.mark.parametrize("real_commits", TRANSACTION_MODES)
def test_when_the_audit_write_fails_the_action_rolls_back_and_the_client_gets_a_json_500(
    atomic_requests, real_commits, monkeypatch
):
    def broken_append(fields):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("audit.services._append", broken_append)
    response = _post("/api/test-audit/signup/", {"username": "newcomer"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "request_id": "failing-request"}
    assert not User.objects.filter(username="newcomer").exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_failure_row_that_cannot_be_written_after_the_response_is_logged_and_the_response_kept(
    monkeypatch, audit_log
):
    def broken_append(fields):
        raise DatabaseError("audit table unavailable")

    monkeypatch.setattr("audit.services._append", broken_append)
    response = _post("/api/test-audit/throttled-login/", {"username": "alice"})
    assert response.status_code == 429
    (line,) = audit_log.json()
    assert (line["level"], line["message"]) == ("ERROR", "audit entry could not be written")
    assert (line["action"], line["detail"], line["request_id"]) == ("login_throttled", "alice", "failing-request")
    assert "audit table unavailable" in line["exception"]


@pytest.mark.django_db
def test_outside_a_request_a_failure_row_is_written_at_once(user):
    from django.contrib.auth import authenticate

    authenticate(username="alice", password="wrong")
    assert AuditEntry.objects.get(action="login_failed").detail == "alice"
