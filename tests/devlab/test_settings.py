"""Settings come from the environment; production settings pass check --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "HTTPS_ONLY"}}
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_secret_key_is_required_when_debug_is_off():
    result = _manage("check", DEBUG="False")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_runs_without_a_secret_key():
    assert _manage("check", DEBUG="True").returncode == 0


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        HTTPS_ONLY="True",
        ALLOWED_HOSTS="devlab.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_database_cache_is_the_default_cache(settings):
    # devlab.cache.DatabaseCache is Django's database cache with a one-statement write.
    assert settings.CACHES["default"]["BACKEND"] == "devlab.cache.DatabaseCache"


def test_sqlite_connections_are_persistent_with_health_checks():
    database = _setting("DATABASES", DEBUG="True", DATABASE_URL="sqlite:////tmp/devlab-settings-test.sqlite3")
    assert "'CONN_MAX_AGE': 60" in database
    assert "'CONN_HEALTH_CHECKS': True" in database


def test_database_cache_keeps_enough_entries_that_lockouts_are_not_culled(settings):
    # Django's default of 300 entries would let an attacker erase lockouts by
    # filling the cache with failures for other usernames.
    assert settings.CACHES["default"]["OPTIONS"]["MAX_ENTRIES"] >= 100_000


def _setting(*names, **env):
    code = f"from django.conf import settings; print(*[getattr(settings, n) for n in {names!r}])"
    clean = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL"}}
    result = _manage("shell", "-c", code, **{**clean, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_mail_goes_to_the_console_only_with_debug():
    # The console would put password-reset links in a production log.
    assert _setting("EMAIL_BACKEND", DEBUG="True").endswith("console.EmailBackend")
    production = {"DEBUG": "False", "SECRET_KEY": secrets.token_urlsafe(50)}
    assert _setting("EMAIL_BACKEND", **production).endswith("smtp.EmailBackend")


def test_email_url_configures_smtp():
    env = {"DEBUG": "True", "EMAIL_URL": "smtp+tls://mailer:pw@mail.example.com:587"}
    assert _setting("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "EMAIL_HOST_USER", **env) == (
        "mail.example.com 587 True mailer"
    )


def test_a_redis_cache_url_selects_the_redis_cache_with_one_client_and_a_counter():
    backend = _setting("CACHES", DEBUG="True", CACHE_URL="redis://127.0.0.1:6379/0")
    assert "'BACKEND': 'devlab.cache.RedisCache'" in backend


def test_postgresql_uses_djangos_connection_pool_without_per_request_health_checks():
    database = _setting("DATABASES", DEBUG="True", DATABASE_URL="postgres://devlab@db:5432/devlab")
    assert "'pool': {'min_size': 1, 'max_size': 4, 'timeout': 5, 'reconnect_timeout': 2}" in database
    assert "'CONN_HEALTH_CHECKS': False" in database
    assert "'CONN_MAX_AGE': 0" in database


def test_the_pool_can_be_turned_off_for_a_persistent_health_checked_connection():
    database = _setting(
        "DATABASES", DEBUG="True", DATABASE_URL="postgres://devlab@db:5432/devlab", DATABASE_POOL="False"
    )
    assert "'pool'" not in database
    assert "'CONN_MAX_AGE': 60" in database
    assert "'CONN_HEALTH_CHECKS': True" in database


def test_a_login_failure_limit_above_a_thousand_is_refused():
    # Every login attempt reads one cache key per allowed failure.
    result = _manage("check", DEBUG="True", LOGIN_FAILURE_LIMIT="100000")
    assert result.returncode != 0
    assert "LOGIN_FAILURE_LIMIT must be between 1 and 1000" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_login_failure_limit_below_one_is_refused():
    result = _manage("check", DEBUG="True", LOGIN_FAILURE_LIMIT="0")
    assert "LOGIN_FAILURE_LIMIT must be between 1 and 1000" in result.stderr


def test_a_login_failure_limit_of_a_thousand_is_accepted():
    assert _manage("check", DEBUG="True", LOGIN_FAILURE_LIMIT="1000").returncode == 0
