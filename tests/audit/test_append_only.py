"""Guarantee 6: entries cannot be changed or deleted, through Django or through SQL."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AppendOnlyError, AuditEntry
from audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db

TABLE = AuditEntry._meta.db_table


@pytest.fixture
def entry(user):
    return audit_record(action=Action.LOGOUT, actor=user, target=user)


def _raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_saving_a_changed_entry_is_refused(entry):
    entry.detail = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).detail == ""


def test_saving_only_some_fields_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.save(update_fields=["detail"])


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="rewritten")


def test_queryset_delete_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == 1


def test_creating_rows_other_than_through_the_writer_is_refused():
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.create(action=Action.LOGOUT)
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([AuditEntry(action=Action.LOGOUT)])


def test_the_database_refuses_an_sql_update(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_auditentry SET detail = 'rewritten' WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).detail == ""


def test_the_database_refuses_an_sql_delete(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_an_unqualified_sql_delete(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 1


@pytest.mark.postgres_only
def test_postgresql_refuses_truncate(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.count() == 1


@pytest.mark.postgres_only
def test_postgresql_refuses_even_an_update_that_matches_no_row(entry):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_auditentry SET detail = 'x' WHERE false")


def test_the_database_refuses_a_second_row_with_the_same_predecessor(entry):
    """A fork is impossible even for a writer that skipped the chain lock."""
    with pytest.raises(DatabaseError):
        _raw(
            "INSERT INTO audit_auditentry (created_at, action, actor_username, detail, user_agent, request_id, "
            "prev_hash, hash) VALUES (%s, 'logout', '', '', '', '', %s, %s)",
            [entry.created_at, entry.prev_hash, "f" * 64],
        )


def test_deleting_a_user_keeps_their_rows_unchanged(user, other_user):
    audit_record(action=Action.LOGOUT, actor=user, target=user)
    audit_record(action=Action.USER_PROMOTED, actor=other_user, target=user)
    before = list(AuditEntry.objects.values())
    user_id = user.pk
    user.delete()
    assert list(AuditEntry.objects.values()) == before
    assert AuditEntry.objects.filter(actor_id=user_id, actor_username="alice").count() == 1
    assert audit_verify().ok


def test_deleting_a_user_does_not_even_query_the_audit_table(user):
    audit_record(action=Action.LOGOUT, actor=user, target=user)
    with CaptureQueriesContext(connection) as queries:
        user.delete()
    assert not [q for q in queries.captured_queries if TABLE in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_the_trigger_migration_reverses_and_applies_again(user):
    entry = audit_record(action=Action.LOGOUT, actor=user)
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0001_initial")])
    try:
        _raw("UPDATE audit_auditentry SET detail = 'allowed without triggers' WHERE id = %s", [entry.pk])
    finally:
        executor.loader.build_graph()
        # Back to the latest migration, not just 0002: later tests need the later tables.
        executor.migrate(executor.loader.graph.leaf_nodes("audit"))
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_auditentry SET detail = 'refused again' WHERE id = %s", [entry.pk])
