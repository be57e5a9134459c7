"""audit_record: the one writer, its fields, its chain and its cost."""

import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import chain
from audit.models import Action, AuditEntry
from audit.services import CLI_USERNAME, VerifyResult, audit_record, audit_verify, signing_key
from devlab.http import USER_AGENT_MAX_LENGTH
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_a_row_carries_the_request_context(request_context, user):
    entry = audit_record(action=Action.LOGIN_SUCCESS, actor=user, target=user)
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.ip, entry.user_agent, entry.request_id) == ("203.0.113.9", "pytest-agent/1.0", "req-123")


def test_outside_a_request_a_row_has_no_request_context(user):
    entry = AuditEntry.objects.get(pk=audit_record(action=Action.USER_PROMOTED, actor_username=CLI_USERNAME).pk)
    assert (entry.ip, entry.user_agent, entry.request_id) == (None, "", "")
    assert entry.actor_id is None
    assert entry.actor_username == "cli"


def test_the_actor_and_a_snapshot_of_their_username_are_stored(user):
    entry = AuditEntry.objects.get(pk=audit_record(action=Action.LOGOUT, actor=user, target=user).pk)
    assert (entry.actor_id, entry.actor_username) == (user.pk, "alice")


def test_the_target_is_stored_as_type_and_id(user, admin_user):
    entry = AuditEntry.objects.get(pk=audit_record(action=Action.USER_PROMOTED, actor=admin_user, target=user).pk)
    assert (entry.target_type, entry.target_id) == ("user", user.pk)


def test_an_event_without_actor_or_target_stores_nulls():
    entry = AuditEntry.objects.get(pk=audit_record(action=Action.LOGIN_FAILED, detail="mallory").pk)
    assert (entry.actor_id, entry.actor_username, entry.target_type, entry.target_id) == (None, "", None, None)
    assert entry.detail == "mallory"


def test_created_at_is_timezone_aware_and_now(user):
    before = timezone.now()
    entry = AuditEntry.objects.get(pk=audit_record(action=Action.LOGOUT, actor=user).pk)
    assert before <= entry.created_at <= timezone.now()
    assert entry.created_at.tzinfo is not None


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="is not a valid Action"):
        audit_record(action="coffee_made")


def test_the_first_row_starts_at_genesis_and_each_next_row_links_to_it(user):
    first = audit_record(action=Action.LOGOUT, actor=user)
    second = audit_record(action=Action.LOGOUT, actor=user)
    assert first.prev_hash == chain.GENESIS
    assert second.prev_hash == first.hash


def test_the_stored_hash_is_the_documented_hmac_of_the_stored_row(request_context, user):
    entry = AuditEntry.objects.get(pk=audit_record(action=Action.SIGNUP, actor=user, target=user).pk)
    fields = {name: getattr(entry, name) for name in chain.HASHED_FIELDS}
    assert entry.hash == chain.entry_hash(signing_key(), entry.prev_hash, fields)


def test_the_chain_key_is_audit_signing_key_when_set(settings):
    settings.AUDIT_SIGNING_KEY = "a-dedicated-key"
    assert signing_key() == b"a-dedicated-key"


def test_the_chain_key_is_derived_from_secret_key_when_unset(settings):
    settings.AUDIT_SIGNING_KEY = ""
    assert signing_key() == chain.derive_key(settings.SECRET_KEY)
    assert signing_key() != settings.SECRET_KEY.encode()


def test_long_text_is_truncated_to_the_column(request_context):
    request_context.user_agent = "u" * 1000
    entry = audit_record(action=Action.USER_UPDATED, detail="d" * 5000)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert len(stored.user_agent) == USER_AGENT_MAX_LENGTH
    assert len(stored.detail) == 512
    assert audit_verify().ok


def test_nul_and_lone_surrogates_are_stored_as_replacement_characters():
    entry = audit_record(action=Action.LOGIN_FAILED, detail="a\x00b\ud800c")
    assert AuditEntry.objects.get(pk=entry.pk).detail == "a\ufffdb\ufffdc"
    assert audit_verify().ok


def test_an_ipv6_client_is_stored_and_still_verifies(request_context, user):
    request_context.ip = "::ffff:198.51.100.7"
    audit_record(action=Action.LOGOUT, actor=user)
    request_context.ip = "2001:db8::1"
    audit_record(action=Action.LOGOUT, actor=user)
    assert list(AuditEntry.objects.values_list("ip", flat=True)) == ["2001:db8::1", "::ffff:198.51.100.7"]
    assert audit_verify() == VerifyResult(ok=True, checked=2)


@pytest.mark.django_db(transaction=True)
def test_an_append_inside_a_transaction_costs_two_round_trips_and_no_savepoint(request_context):
    user = UserFactory()
    audit_record(action=Action.LOGOUT, actor=user)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        audit_record(action=Action.LOGOUT, actor=user)
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("SAVEPOINT" in s for s in sql)
    assert len(sql) == 2, sql
    assert sql[1].startswith('INSERT INTO "audit_auditentry"')
    if connection.vendor == "postgresql":
        # The lock and the head read go together; the head is read once the lock is held.
        lock, head = sql[0].split(";", 1)
        assert "pg_advisory_xact_lock" in lock
        assert 'FROM "audit_auditentry"' in head


def test_only_the_audit_writer_module_creates_audit_rows():
    """Guarantee 3: one function writes rows; no other module constructs or inserts them."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "audit/migrations/")) or relative == "audit/services.py":
            continue
        if re.search(
            r"(?<!class )AuditEntry\(|AuditEntry\.objects\.(create|bulk_create)|AuditEntry\._base_manager",
            path.read_text(),
        ):
            offenders.append(relative)
    assert offenders == []
