"""Guarantee 8: every committed row is also one JSON line on the ``audit`` logger."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from audit.models import PUBLIC_FIELDS, Action, AuditEntry
from audit.services import audit_record

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_a_committed_row_is_mirrored_as_one_json_line_with_every_field(
    audit_log, request_context, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = audit_record(action=Action.LOGOUT, actor=user, target=user)
    (line,) = audit_log.json()
    assert (line["logger"], line["level"], line["message"]) == ("audit", "INFO", "audit logout")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert {name: line[name] for name in PUBLIC_FIELDS} == {
        "id": stored.pk,
        "created_at": stored.created_at.isoformat().replace("+00:00", "Z"),
        "action": "logout",
        "actor_id": user.pk,
        "actor_username": "alice",
        "target_type": "user",
        "target_id": user.pk,
        "detail": "",
        "ip": "203.0.113.9",
        "user_agent": "pytest-agent/1.0",
        "request_id": "req-123",
        "prev_hash": stored.prev_hash,
        "hash": stored.hash,
    }


def test_nothing_is_mirrored_before_the_commit(audit_log, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        audit_record(action=Action.LOGOUT, actor=user)
    assert audit_log.lines == []
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_action_is_not_mirrored(audit_log, user):
    @transaction.atomic
    def failing_action():
        audit_record(action=Action.LOGOUT, actor=user)
        raise RuntimeError("the action failed after its audit row was written")

    with pytest.raises(RuntimeError):
        failing_action()
    assert audit_log.lines == []
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_row_written_outside_a_transaction_is_mirrored_at_once(audit_log, user):
    audit_record(action=Action.LOGOUT, actor=user)
    assert [line["action"] for line in audit_log.json()] == ["logout"]


def test_rows_go_to_stdout_and_to_the_audit_log_file_when_configured(tmp_path):
    """A real process: the default stdout handler, plus AUDIT_LOG_FILE's rotating file."""
    log_file = tmp_path / "audit.jsonl"
    env = {
        **os.environ,
        "DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AUDIT_LOG_FILE": str(log_file),
    }

    def manage(*args):
        return subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )

    manage("migrate", "--noinput", "-v", "0")
    result = manage(
        "shell",
        "-c",
        "from audit.services import audit_record; audit_record(action='user_demoted', actor_username='cli')",
    )
    (stdout_line,) = [json.loads(line) for line in result.stdout.splitlines() if '"logger": "audit"' in line]
    (file_line,) = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert stdout_line == file_line
    assert (file_line["action"], file_line["actor_username"], file_line["ip"]) == ("user_demoted", "cli", None)
