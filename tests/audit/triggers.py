"""Lifting the audit table's append-only triggers, for tests only.

Tamper tests lift them to change rows the way an attacker with database
rights would. ``TransactionTestCase``-style tests end with a flush of every
table, which the triggers rightly refuse for the audit table; the suite
(tests/conftest.py) lifts them around those flushes only.
"""

import importlib
from contextlib import contextmanager

from django.db import connection
from django.db.backends.base.operations import BaseDatabaseOperations

triggers_migration = importlib.import_module("audit.migrations.0002_append_only_triggers")
TABLE = triggers_migration.TABLE


def lift_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"ALTER TABLE {TABLE} DISABLE TRIGGER USER"]
    return list(triggers_migration.SQLITE_REVERSE)


def restore_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"ALTER TABLE {TABLE} ENABLE TRIGGER USER"]
    return list(triggers_migration.SQLITE_FORWARD)


@contextmanager
def triggers_lifted():
    """The append-only triggers are off inside the block, back on after it."""
    with connection.cursor() as cursor:
        for sql in lift_sql(connection.vendor):
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in restore_sql(connection.vendor):
                cursor.execute(sql)


def allow_test_flushes() -> None:
    """Makes test flushes lift the triggers around their own statements only."""
    original = BaseDatabaseOperations.execute_sql_flush
    if getattr(original, "lifts_audit_triggers", False):
        return

    def execute_sql_flush(self, sql_list):
        if not any(TABLE in sql for sql in sql_list):
            return original(self, sql_list)
        vendor = self.connection.vendor
        return original(self, [*lift_sql(vendor), *sql_list, *restore_sql(vendor)])

    execute_sql_flush.lifts_audit_triggers = True
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
