"""Guarantee 8: every committed row is also one JSON line on the ``audit`` logger."""

import json
import os
import subprocess
import sys
import time
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
    """A real process: the default stdout handler, plus AUDIT_LOG_FILE."""
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


WRITERS = 4
LINES_PER_WRITER = 1500
# Each writer sets Django up with AUDIT_LOG_FILE, waits for the start file, then
# logs through the audit logger's configured handlers, as a gunicorn worker does.
# Every 100th line is long (40 kB), so that interleaved writes would show.
WRITER = """
import logging, os, sys, time
import django
django.setup()
writer, lines, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
open(f"{go}.ready.{writer}", "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
log = logging.getLogger("audit")
for seq in range(lines):
    log.info("audit mirror test", extra={"writer": writer, "seq": seq, "pad": "x" * (40000 if seq % 100 == 0 else 0)})
    time.sleep(0.0005)
"""


def test_four_processes_lose_no_line_while_the_file_is_rotated(tmp_path):
    """logrotate renames the file while four workers write: every line is somewhere, whole,
    once, and every writer followed the rotations to the new file."""
    log_file = tmp_path / "audit.jsonl"
    go = tmp_path / "go"
    env = {
        **os.environ,
        "DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AUDIT_LOG_FILE": str(log_file),
        "LOG_LEVEL": "WARNING",
    }
    writers = [
        subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", WRITER, str(k), str(LINES_PER_WRITER), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for k in range(WRITERS)
    ]
    rotated = []
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("go.ready.*"))) < WRITERS and time.monotonic() < deadline:
            time.sleep(0.05)  # Django set up in every writer
        go.touch()
        while any(writer.poll() is None for writer in writers) and time.monotonic() < deadline:
            time.sleep(0.05)
            if log_file.exists():
                rotated.append(log_file.rename(tmp_path / f"audit.jsonl.{len(rotated) + 1}"))
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
            writer.wait(timeout=30)
    assert [writer.returncode for writer in writers] == [0] * WRITERS, [w.stderr.read() for w in writers]
    seen: dict[tuple[int, int], int] = {}
    files_per_writer: dict[int, set[str]] = {k: set() for k in range(WRITERS)}
    for path in [*rotated, log_file]:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)  # a torn or interleaved line would not parse
            key = (record["writer"], record["seq"])
            seen[key] = seen.get(key, 0) + 1
            files_per_writer[record["writer"]].add(path.name)
    assert seen == {(k, seq): 1 for k in range(WRITERS) for seq in range(LINES_PER_WRITER)}
    # Each writer reopened the renamed file: its lines are spread over the generations,
    # not all appended to the inode it opened first.
    assert all(len(files) >= 3 for files in files_per_writer.values()), files_per_writer
    assert len(rotated) >= 5
