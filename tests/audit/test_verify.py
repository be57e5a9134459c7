"""Guarantee 7: verify re-computes the chain and names the first row that breaks it."""

import os
import re
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import chain
from audit.models import Action, AuditEntry
from audit.services import REASON_GENESIS, REASON_HASH, REASON_LINK, VerifyResult, audit_record, audit_verify
from tests.audit.triggers import triggers_lifted

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rows(user, request_context):
    return [audit_record(action=Action.LOGOUT, actor=user, target=user, detail=f"row {i}") for i in range(4)]


def _sql(sql, params=()):
    with triggers_lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_intact_chain_verifies(rows):
    assert audit_verify() == VerifyResult(ok=True, checked=4)


def test_an_empty_trail_verifies():
    assert audit_verify() == VerifyResult(ok=True, checked=0)


def test_small_chunks_give_the_same_answer(rows):
    assert audit_verify(chunk_size=1) == VerifyResult(ok=True, checked=4)


def test_a_changed_field_is_named(rows):
    _sql("UPDATE audit_auditentry SET detail = 'nothing happened' WHERE id = %s", [rows[2].pk])
    assert audit_verify() == VerifyResult(ok=False, checked=3, first_bad_id=rows[2].pk, reason=REASON_HASH)


def test_a_changed_actor_is_named(rows, other_user):
    _sql("UPDATE audit_auditentry SET actor_id = %s, actor_username = 'bob' WHERE id = %s", [other_user.pk, rows[1].pk])
    assert audit_verify().first_bad_id == rows[1].pk


def test_a_changed_time_is_named(rows):
    _sql("UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [rows[0].created_at, rows[1].pk])
    assert audit_verify().first_bad_id == rows[1].pk


def test_a_changed_hash_is_named(rows):
    _sql("UPDATE audit_auditentry SET hash = %s WHERE id = %s", ["a" * 64, rows[1].pk])
    assert audit_verify() == VerifyResult(ok=False, checked=2, first_bad_id=rows[1].pk, reason=REASON_HASH)


def test_a_row_rewritten_with_a_recomputed_hash_but_the_wrong_key_is_named(rows):
    forged = {name: getattr(rows[1], name) for name in chain.HASHED_FIELDS} | {"detail": "forged"}
    forged_hash = chain.entry_hash(b"attacker-guess", rows[1].prev_hash, forged)
    _sql("UPDATE audit_auditentry SET detail = 'forged', hash = %s WHERE id = %s", [forged_hash, rows[1].pk])
    assert audit_verify().first_bad_id == rows[1].pk


def test_a_deleted_row_is_named_by_its_successor(rows):
    _sql("DELETE FROM audit_auditentry WHERE id = %s", [rows[1].pk])
    assert audit_verify() == VerifyResult(ok=False, checked=2, first_bad_id=rows[2].pk, reason=REASON_LINK)


def test_deleting_the_oldest_rows_is_detected(rows):
    _sql("DELETE FROM audit_auditentry WHERE id <= %s", [rows[1].pk])
    assert audit_verify() == VerifyResult(ok=False, checked=1, first_bad_id=rows[2].pk, reason=REASON_GENESIS)


def _insert_forged(row_id, prev_hash):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (id, created_at, action, actor_username, detail, user_agent, request_id, "
            "prev_hash, hash) VALUES (%s, %s, 'logout', 'alice', '', '', '', %s, %s)",
            [row_id, AuditEntry.objects.latest("id").created_at, prev_hash, "b" * 64],
        )


def test_a_row_inserted_after_the_head_is_named(rows):
    _insert_forged(rows[-1].pk + 10, rows[-1].hash)
    assert audit_verify() == VerifyResult(ok=False, checked=5, first_bad_id=rows[-1].pk + 10, reason=REASON_HASH)


def test_a_row_inserted_before_the_first_is_named(rows):
    _insert_forged(rows[0].pk - 1, "c" * 64)
    result = audit_verify()
    assert (result.ok, result.first_bad_id) == (False, rows[0].pk - 1)


def test_a_row_inserted_between_two_rows_is_named(user, request_context):
    first = audit_record(action=Action.LOGOUT, actor=user)
    _insert_forged(first.pk + 1, first.hash)
    if connection.vendor == "postgresql":  # as a forger would, so that the next append gets the next id
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), %s)", [first.pk + 1])
    honest = audit_record(action=Action.LOGOUT, actor=user)
    assert honest.pk == first.pk + 2
    assert audit_verify() == VerifyResult(ok=False, checked=2, first_bad_id=first.pk + 1, reason=REASON_HASH)


def test_another_signing_key_breaks_the_first_row(rows, settings):
    settings.AUDIT_SIGNING_KEY = "not-the-key-the-rows-were-signed-with"
    assert audit_verify() == VerifyResult(ok=False, checked=1, first_bad_id=rows[0].pk, reason=REASON_HASH)


def test_a_value_that_cannot_be_serialised_is_reported_not_raised(rows):
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite lets a non-address into the ip column")
    _sql("UPDATE audit_auditentry SET ip = 'not-an-ip' WHERE id = %s", [rows[0].pk])
    assert audit_verify().first_bad_id == rows[0].pk


def test_progress_is_reported_every_n_rows(rows):
    seen = []
    audit_verify(progress=seen.append, progress_every=2)
    assert seen == [2, 4]


def test_the_command_summarises_an_intact_chain_with_its_head(rows):
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit chain intact: 4 rows checked." in out.getvalue()
    assert f"Head: row {rows[-1].pk}, hash {rows[-1].hash}." in out.getvalue()


def test_the_command_fails_naming_the_first_bad_row(rows):
    _sql("UPDATE audit_auditentry SET detail = 'nothing happened' WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError, match=f"BROKEN at row {rows[1].pk}: hash does not match"):
        call_command("verify_audit", stdout=StringIO())


class _Terminal(StringIO):
    def isatty(self):
        return True


def test_the_command_shows_progress_on_a_terminal(rows, monkeypatch):
    monkeypatch.setattr("audit.management.commands.verify_audit.PROGRESS_EVERY", 2)
    monkeypatch.setattr("audit.progress.INTERVAL", 0)
    out, err = StringIO(), _Terminal()
    call_command("verify_audit", stdout=out, stderr=err)
    drawn = err.getvalue()
    # The total is the table's estimated size while it runs, the exact count at the end.
    assert re.search(r"\r2/[\d,]+ rows \(\d+%\), [\d,]+ rows/s, ETA ", drawn)
    assert drawn.endswith("\n")
    assert drawn.rstrip().rsplit("\r", 1)[1].startswith("4/4 rows (100%), ")
    assert out.getvalue().count("\n") == 1  # stdout has the summary only


def test_the_command_shows_no_progress_at_verbosity_zero_even_on_a_terminal(rows):
    err = _Terminal()
    call_command("verify_audit", stdout=StringIO(), stderr=err, verbosity=0)
    assert err.getvalue() == ""


def test_the_command_shows_no_progress_in_scripts(rows, monkeypatch):
    monkeypatch.setattr("audit.management.commands.verify_audit.PROGRESS_EVERY", 1)
    monkeypatch.setattr("audit.progress.INTERVAL", 0)
    out, err = StringIO(), StringIO()
    call_command("verify_audit", stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue().count("\n") == 1  # the summary only


def test_the_command_is_quiet_at_verbosity_zero(rows):
    out = StringIO()
    call_command("verify_audit", stdout=out, verbosity=0)
    assert out.getvalue() == ""


def test_the_command_exits_0_when_intact_and_1_naming_the_row_when_not(tmp_path):
    """A real process: exit statuses and stderr, no traceback."""
    env = {**os.environ, "DEBUG": "True", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    def manage(*args):
        return subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )

    assert manage("migrate", "--noinput", "-v", "0").returncode == 0
    write = (
        "from audit.services import audit_record\n"
        "for _ in range(3): audit_record(action='user_demoted', actor_username='cli')"
    )
    assert manage("shell", "-c", write).returncode == 0
    intact = manage("verify_audit")
    assert (intact.returncode, intact.stderr) == (0, "")
    assert "Audit chain intact: 3 rows checked." in intact.stdout

    with sqlite3.connect(tmp_path / "db.sqlite3") as db:  # an attacker with the database file
        db.execute("DROP TRIGGER audit_auditentry_no_update")
        db.execute("UPDATE audit_auditentry SET actor_username = 'nobody' WHERE id = 2")
    broken = manage("verify_audit")
    assert broken.returncode == 1
    assert "BROKEN at row 2" in broken.stderr
    assert "Traceback" not in broken.stderr
