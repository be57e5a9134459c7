"""The runtime database role: ordinary rights on every table, append-only on the audit tables.

Migrations run as the owner role, which owns every table (and so can alter,
disable the triggers of, truncate or drop them). The app serves as a runtime
role that is granted, in the current schema:

- every table but the audit app's: ``SELECT, INSERT, UPDATE, DELETE``; their
  sequences ``USAGE, SELECT``;
- every table of the ``audit`` app (the chain and whatever append-only table
  that app adds later): ``SELECT, INSERT`` only, their sequences ``USAGE``
  only. No ``UPDATE``, ``DELETE``, ``TRUNCATE``, ``TRIGGER``, ``REFERENCES``,
  and no ownership: ``ALTER TABLE ... DISABLE TRIGGER`` and ``DROP TABLE`` are
  the owner's alone.

Tables a later migration adds get the ordinary rights from default privileges
(``ALTER DEFAULT PRIVILEGES FOR ROLE <owner>``). A default privilege cannot
tell an audit table from another, so after every ``migrate`` the audit tables'
rights are put back to append-only for every role the owner's default
privileges name (``reapply_after_migrate``, a ``post_migrate`` receiver), and
the container entrypoint also runs ``db_runtime_role`` after ``migrate``.

Used by ``manage.py db_runtime_role`` (audit/management/commands/); PostgreSQL only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import connections, transaction

#: What the runtime role may do on the audit tables and their sequences.
AUDIT_TABLE_PRIVILEGES = ("SELECT", "INSERT")
AUDIT_SEQUENCE_PRIVILEGES = ("USAGE",)
#: Ordinary rights on the other tables and sequences.
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")


class RoleError(Exception):
    """The role cannot be made a runtime role; the message says why."""


@dataclass
class Report:
    role: str
    created: bool = False
    tables: list[str] = field(default_factory=list)
    audit_tables: list[str] = field(default_factory=list)


def audit_tables() -> list[str]:
    """The tables of every model of the ``audit`` app: all of them are append-only."""
    config = apps.get_app_config("audit")
    tables = {model._meta.db_table for model in config.get_models(include_auto_created=True)}
    return sorted(tables)


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _existing_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
        "AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname"
    )
    return [row[0] for row in cursor.fetchall()]


def _owned_sequences(cursor, table: str) -> list[str]:
    """The sequences of ``table``'s serial or identity columns."""
    cursor.execute(
        "SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
        "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND d.refobjid = (quote_ident(current_schema()) || '.' || quote_ident(%s))::regclass "
        "AND s.relkind = 'S' ORDER BY s.relname",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _check_role(cursor, role: str) -> None:
    """Refuses a role whose rights go beyond any grant: a superuser, the owner, or a member of it."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    (superuser,) = cursor.fetchone()
    if superuser:
        raise RoleError(f"{role} is a superuser: no grant or revoke limits it")
    cursor.execute("SELECT current_user")
    (owner,) = cursor.fetchone()
    if role == owner:
        raise RoleError(f"{role} is the role running this command (the owner); name another role")
    cursor.execute(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')"
    )
    for (table_owner,) in cursor.fetchall():
        cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, table_owner])
        if cursor.fetchone()[0]:
            raise RoleError(f"{role} is {table_owner} or a member of it, and {table_owner} owns tables here")


def grant_runtime_role(role: str, *, using: str = "default", create: bool = True) -> Report:
    """Creates ``role`` when missing (``NOLOGIN``, no password) and grants it exactly the
    runtime rights described in the module docstring. Idempotent."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RoleError("database roles need PostgreSQL")
    report = Report(role=role)
    quoted = _quote(connection, role)
    audit = set(audit_tables())
    # One transaction: a failure leaves the rights as they were, and a server
    # running meanwhile never sees a table between its REVOKE and its GRANT.
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            if not create:
                raise RoleError(f"role {role} does not exist")
            cursor.execute(f"CREATE ROLE {quoted} NOLOGIN")
            report.created = True
        _check_role(cursor, role)

        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        cursor.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')", [role, database])
        if not cursor.fetchone()[0]:
            cursor.execute(f"GRANT CONNECT ON DATABASE {_quote(connection, database)} TO {quoted}")
        cursor.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", [role, schema])
        if not cursor.fetchone()[0]:
            cursor.execute(f"GRANT USAGE ON SCHEMA {_quote(connection, schema)} TO {quoted}")

        # Tables and sequences a later migration creates (as the owner running this).
        cursor.execute("SELECT current_user")
        owner = _quote(connection, cursor.fetchone()[0])
        defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {_quote(connection, schema)}"
        cursor.execute(f"{defaults} GRANT {', '.join(TABLE_PRIVILEGES)} ON TABLES TO {quoted}")
        cursor.execute(f"{defaults} GRANT {', '.join(SEQUENCE_PRIVILEGES)} ON SEQUENCES TO {quoted}")

        for table in _existing_tables(cursor):
            qtable = _quote(connection, table)
            sequences = _owned_sequences(cursor, table)
            # Start from nothing, so that a right granted by hand or by a default
            # privilege (TRUNCATE, TRIGGER, ...) does not survive a re-run.
            cursor.execute(f"REVOKE ALL ON TABLE {qtable} FROM {quoted}")
            for sequence in sequences:
                cursor.execute(f"REVOKE ALL ON SEQUENCE {_quote(connection, sequence)} FROM {quoted}")
            if table in audit:
                table_rights, sequence_rights = AUDIT_TABLE_PRIVILEGES, AUDIT_SEQUENCE_PRIVILEGES
                report.audit_tables.append(table)
            else:
                table_rights, sequence_rights = TABLE_PRIVILEGES, SEQUENCE_PRIVILEGES
                report.tables.append(table)
            cursor.execute(f"GRANT {', '.join(table_rights)} ON TABLE {qtable} TO {quoted}")
            for sequence in sequences:
                cursor.execute(
                    f"GRANT {', '.join(sequence_rights)} ON SEQUENCE {_quote(connection, sequence)} TO {quoted}"
                )
    return report


def runtime_roles(using: str = "default") -> list[str]:
    """The roles the current user's default privileges grant table rights to: the
    runtime roles ``grant_runtime_role`` was run for as this owner."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pg_get_userbyid(acl.grantee) FROM pg_default_acl d, aclexplode(d.defaclacl) acl "
            "WHERE d.defaclrole = current_user::regrole AND d.defaclobjtype = 'r' "
            "AND d.defaclnamespace = current_schema()::regnamespace AND acl.grantee <> 0 ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def reapply_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver: a table a migration just created got the default
    privileges, which for an audit table are too many; grant every runtime role
    exactly its rights again."""
    if connections[using].vendor != "postgresql":
        return
    for role in runtime_roles(using):
        grant_runtime_role(role, using=using, create=False)
