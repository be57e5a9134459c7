"""manage.py promote_user / demote_user."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_promote_user_makes_an_admin_audited_as_cli(user, capsys):
    call_command("promote_user", "ALICE")
    user.refresh_from_db()
    assert user.is_staff
    assert "alice is now an admin" in capsys.readouterr().out
    assert AuditEntry.objects.get(action="user_promoted").actor_username == "cli"


def test_promote_user_superuser(user):
    call_command("promote_user", "alice", "--superuser")
    user.refresh_from_db()
    assert user.is_superuser


def test_promote_unknown_user_is_a_command_error():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("promote_user", "ghost")


def test_promote_an_admin_is_a_command_error():
    AdminFactory(username="boss")
    with pytest.raises(CommandError, match="already an admin"):
        call_command("promote_user", "boss")


def test_demote_user_removes_rights_audited_as_cli():
    AdminFactory(username="boss")
    call_command("demote_user", "boss", verbosity=0)
    entry = AuditEntry.objects.get(action="user_demoted")
    assert entry.actor_username == "cli"


def test_demoting_the_last_superuser_is_refused():
    UserFactory(username="root", is_staff=True, is_superuser=True)
    with pytest.raises(CommandError, match="last superuser"):
        call_command("demote_user", "root")


def test_unknown_username_exits_1_with_a_message_and_no_traceback(tmp_path):
    env = {**os.environ, "DEBUG": "True", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "promote_user", "ghost"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "No user named 'ghost'" in result.stderr
    assert "Traceback" not in result.stderr


def test_demoting_the_last_active_superuser_is_refused_though_an_inactive_one_exists():
    UserFactory(username="root", is_staff=True, is_superuser=True)
    UserFactory(username="gone", is_staff=True, is_superuser=True, is_active=False)
    with pytest.raises(CommandError, match="last superuser"):
        call_command("demote_user", "root")


def test_the_operator_may_demote_a_superuser_while_another_remains():
    UserFactory(username="root", is_staff=True, is_superuser=True)
    other = UserFactory(username="other", is_staff=True, is_superuser=True)
    call_command("demote_user", "other", verbosity=0)
    other.refresh_from_db()
    assert (other.is_staff, other.is_superuser) == (False, False)
