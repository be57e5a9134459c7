"""Operations against DevLab as it ships (gunicorn, two workers, PostgreSQL): /metrics adds up
every worker, counts logins and lockouts, and the maintenance and unlock commands work on the
live database. No browser: run with ``make e2e``."""

import re
import secrets
import urllib.request

import pytest

from scripts.liveserver import http_json, live_devlab, manage, sign_up

WORKERS = 2


@pytest.fixture(scope="module")
def ops_live():
    with live_devlab(workers=WORKERS, label="ops") as server:
        yield server


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:  # noqa: S310 - loopback
        assert response.status == 200
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("devlab_"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_sum_every_worker(ops_live):
    key = 'devlab_http_requests_total{method="GET",route="healthz",status="200"}'
    before = scrape(ops_live.url).get(key, 0)
    for _ in range(40):  # a new connection each: the workers share them out
        assert http_json("GET", f"{ops_live.url}/healthz")[0] == 200
    assert scrape(ops_live.url)[key] == before + 40


def test_failed_logins_and_lockouts_are_counted_and_unlock_user_clears_them(ops_live):
    username, password = f"ops-{secrets.token_hex(4)}", f"Pw-{secrets.token_urlsafe(12)}"
    sign_up(ops_live.url, username, password)
    before = scrape(ops_live.url)
    for _ in range(5):
        assert http_json("POST", f"{ops_live.url}/api/auth/login/", {"username": username, "password": "x"})[0] == 401
    login = {"username": username, "password": password}
    assert http_json("POST", f"{ops_live.url}/api/auth/login/", login)[0] == 429
    after = scrape(ops_live.url)
    assert after["devlab_login_failures_total"] == before.get("devlab_login_failures_total", 0) + 5
    lockouts = 'devlab_login_refused_total{reason="lockout"}'
    assert after[lockouts] == before.get(lockouts, 0) + 1
    assert username not in str(after)

    out = manage(ops_live.env, "unlock_user", username)
    assert "lockout is cleared" in out
    assert http_json("POST", f"{ops_live.url}/api/auth/login/", login)[0] == 200


def test_maintenance_runs_against_the_live_database(ops_live):
    out = manage(ops_live.env, "maintenance")
    assert re.search(r"^Removed \d+ expired refresh tokens\.$", out, re.MULTILINE)
    assert re.search(r"^Removed \d+ expired cache entries \(default\)\.$", out, re.MULTILINE)
