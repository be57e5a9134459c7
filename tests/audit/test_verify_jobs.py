"""Verification over HTTP at any size: a background job with a status URL."""

import time

import pytest
from rest_framework.test import APIClient

from audit import verify_jobs
from audit.models import Action
from audit.services import audit_record
from tests.audit import checkpointing as cp

pytestmark = pytest.mark.django_db


@pytest.fixture
def inline(monkeypatch):
    """Jobs run inside the request (the test's transaction); the thread is the production path."""
    started = []

    def run_now(target):
        started.append(target)
        target()

    monkeypatch.setattr(verify_jobs, "runner", run_now)
    return started


@pytest.fixture
def rows(user, request_context):
    return [audit_record(action=Action.LOGOUT, actor=user, target=user) for _ in range(4)]


def test_a_job_answers_202_with_its_status_url_then_the_verify_result(admin_api_client, rows, inline):
    response = admin_api_client.post("/api/audit/verify/jobs/")
    assert response.status_code == 202
    job = response.json()
    assert response["Location"] == job["url"]
    assert job["url"].endswith(f"/api/audit/verify/jobs/{job['id']}/")
    state = admin_api_client.get(job["url"]).json()
    assert state["status"] == "done"
    assert state["result"] == {"ok": True, "checked": 4}


def test_a_job_reports_a_broken_chain_like_the_simple_get(admin_api_client, rows, inline):
    cp.edit_row(rows[1].pk)
    job = admin_api_client.post("/api/audit/verify/jobs/").json()
    result = admin_api_client.get(job["url"]).json()["result"]
    assert result == admin_api_client.get("/api/audit/verify/").json()
    assert (result["ok"], result["first_bad_id"]) == (False, rows[1].pk)


def test_a_running_job_is_returned_instead_of_a_second_one(admin_api_client, rows, monkeypatch):
    queued = []
    monkeypatch.setattr(verify_jobs, "runner", queued.append)
    first = admin_api_client.post("/api/audit/verify/jobs/").json()
    second = admin_api_client.post("/api/audit/verify/jobs/").json()
    assert first["id"] == second["id"]
    assert len(queued) == 1
    assert admin_api_client.get(first["url"]).json()["status"] == "running"


def test_a_job_whose_worker_died_is_lost_and_a_new_one_starts(admin_api_client, rows, monkeypatch):
    queued = []
    monkeypatch.setattr(verify_jobs, "runner", queued.append)
    first = admin_api_client.post("/api/audit/verify/jobs/").json()
    monkeypatch.setattr(verify_jobs, "LOST_AFTER", -1)  # no heartbeat since
    assert admin_api_client.get(first["url"]).json()["status"] == "lost"
    second = admin_api_client.post("/api/audit/verify/jobs/").json()
    assert second["id"] != first["id"]


def test_an_unknown_job_is_404(admin_api_client):
    assert admin_api_client.get("/api/audit/verify/jobs/0123456789abcdef0123456789abcdef/").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/api/audit/verify/jobs/"), ("get", "/api/audit/verify/jobs/x/")]
)
def test_jobs_are_admins_only(api_client, user_client, method, path):
    assert getattr(api_client, method)(path).status_code == 401
    assert getattr(user_client, method)(path).status_code == 403


@pytest.mark.postgres_only  # SQLite's in-memory test database is not shared with another thread's connection
@pytest.mark.django_db(transaction=True)
def test_the_job_really_runs_in_a_thread_after_the_response(admin_user, user):
    for _ in range(3):
        audit_record(action=Action.LOGOUT, actor=user, target=user)
    client = APIClient()
    client.force_authenticate(admin_user)
    job = client.post("/api/audit/verify/jobs/").json()
    deadline = time.monotonic() + 30
    state = client.get(job["url"]).json()
    while state["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get(job["url"]).json()
    assert state["status"] == "done"
    assert state["result"] == {"ok": True, "checked": 3}
