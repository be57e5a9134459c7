"""Database triggers that make audit_auditentry append-only, per vendor.

PostgreSQL: one statement-level trigger refuses UPDATE, DELETE and TRUNCATE
(even when no row would be touched). SQLite: row-level triggers refuse UPDATE
and DELETE (SQLite has no TRUNCATE; a trigger also turns off its
"truncate optimisation" for an unqualified DELETE).

Each operation runs only on its vendor and has a reverse. On SQLite a later
migration that alters this table rebuilds it, which drops the triggers: such a
migration must create them again (TRIGGERS_SQLITE below).

Consequence worth knowing: ``manage.py flush`` refuses to empty the audit
table. The test suite lifts the triggers around its own flushes only
(tests/audit/triggers.py).
"""

from django.db import migrations

TABLE = "audit_auditentry"

POSTGRESQL_FORWARD = [
    f"""
    CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()
    """,
]
POSTGRESQL_REVERSE = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

TRIGGERS_SQLITE = {
    f"{TABLE}_no_update": f"""
        CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END
    """,
    f"{TABLE}_no_delete": f"""
        CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END
    """,
}
SQLITE_FORWARD = list(TRIGGERS_SQLITE.values())
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS_SQLITE]


class VendorRunSQL(migrations.RunSQL):
    """RunSQL that runs only on one database vendor (both directions)."""

    def __init__(self, vendor, sql, reverse_sql, **kwargs):
        self.vendor = vendor
        super().__init__(sql, reverse_sql, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs["vendor"] = self.vendor
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Append-only triggers on {TABLE} ({self.vendor})"


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        VendorRunSQL("postgresql", POSTGRESQL_FORWARD, POSTGRESQL_REVERSE),
        VendorRunSQL("sqlite", SQLITE_FORWARD, SQLITE_REVERSE),
    ]
