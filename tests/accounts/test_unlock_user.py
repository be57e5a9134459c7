"""manage.py unlock_user: a lockout cleared for every IP, audited as cli."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts import lockout, signals
from audit.models import AuditEntry
from tests.accounts.helpers import capture, full_width, log_in

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
IPS = ("198.51.100.7", "203.0.113.9", "2001:db8::1")


def lock_out(client, username, ip):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert log_in(client, username, "wrong password", REMOTE_ADDR=ip).status_code == 401
    assert log_in(client, username, REMOTE_ADDR=ip).status_code == 429


def test_unlock_user_clears_the_lockout_from_every_ip(api_client, user):
    for ip in IPS:
        lock_out(api_client, "alice", ip)
    call_command("unlock_user", "alice", verbosity=0)
    for ip in IPS:
        assert log_in(api_client, "alice", REMOTE_ADDR=ip).status_code == 200


def test_unlock_user_is_audited_as_cli_with_a_user_updated_row(user, capsys):
    call_command("unlock_user", "ALICE")
    assert "alice's login lockout is cleared" in capsys.readouterr().out
    entry = AuditEntry.objects.get(action="user_updated")
    assert (entry.actor_username, entry.actor_id) == ("cli", None)
    assert (entry.target_type, entry.target_id, entry.detail) == ("user", user.pk, "lockout cleared")


def test_unlock_user_sends_user_unlocked_with_no_actor(user):
    with capture(signals.user_unlocked) as calls:
        call_command("unlock_user", "alice", verbosity=0)
    assert [(call["actor"], call["user"]) for call in calls] == [(None, user)]


def test_the_unlock_covers_every_spelling_of_the_username(api_client, user):
    lock_out(api_client, full_width("ALICE"), IPS[0])
    call_command("unlock_user", "alice", verbosity=0)
    assert log_in(api_client, "alice", REMOTE_ADDR=IPS[0]).status_code == 200


def test_other_users_stay_locked_out(api_client, user, other_user):
    lock_out(api_client, "bob", IPS[0])
    call_command("unlock_user", "alice", verbosity=0)
    assert log_in(api_client, "bob", REMOTE_ADDR=IPS[0]).status_code == 429


def test_failures_after_an_unlock_count_again_towards_a_new_lockout(api_client, user):
    lock_out(api_client, "alice", IPS[0])
    call_command("unlock_user", "alice", verbosity=0)
    lock_out(api_client, "alice", IPS[0])
    assert lockout.check(username="alice", ip=IPS[1]) == 0


def test_a_success_after_an_unlock_resets_the_new_count(api_client, user):
    call_command("unlock_user", "alice", verbosity=0)
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        log_in(api_client, "alice", "wrong password", REMOTE_ADDR=IPS[0])
    assert log_in(api_client, "alice", REMOTE_ADDR=IPS[0]).status_code == 200
    assert lockout.check(username="alice", ip=IPS[0]) == 0


def test_a_second_unlock_also_clears_failures_counted_since_the_first(api_client, user):
    call_command("unlock_user", "alice", verbosity=0)
    lock_out(api_client, "alice", IPS[0])
    call_command("unlock_user", "alice", verbosity=0)
    assert log_in(api_client, "alice", REMOTE_ADDR=IPS[0]).status_code == 200


def test_an_unlock_the_cache_did_not_keep_is_an_error_and_is_not_audited(api_client, user, monkeypatch):
    lock_out(api_client, "alice", IPS[0])
    monkeypatch.setattr(lockout.cache, "set", lambda *args, **kwargs: None)  # a write the cache swallowed
    with pytest.raises(CommandError, match="could not be cleared"):
        call_command("unlock_user", "alice")
    assert not AuditEntry.objects.filter(action="user_updated").exists()
    monkeypatch.undo()
    assert log_in(api_client, "alice", REMOTE_ADDR=IPS[0]).status_code == 429


def test_unlock_unknown_user_is_a_command_error_and_audits_nothing():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("unlock_user", "ghost")
    assert not AuditEntry.objects.exists()


def test_unlock_unknown_username_exits_1_on_stderr_without_a_traceback(tmp_path):
    env = {**os.environ, "DEBUG": "True", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "unlock_user", "ghost"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "No user named 'ghost'" in result.stderr
    assert "Traceback" not in result.stderr
