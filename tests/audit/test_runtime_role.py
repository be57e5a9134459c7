# ruff: noqa: S608 - the SQL is built from this module's constant table names and its own role name
"""The runtime database role (manage.py db_runtime_role): the app serves as a role that can
read and append audit rows and nothing else on them, with ordinary rights elsewhere.

Each test creates a role of its own (roles are shared by the whole PostgreSQL
cluster), and the app's own connection switches to it with ``SET ROLE``: the
audit writer, the API and the ORM run exactly as they do when gunicorn connects
as that role.
"""

import uuid
from contextlib import contextmanager

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from rest_framework.test import APIClient

from audit import dbroles
from audit.models import Action, AuditEntry
from audit.services import audit_record, audit_verify
from notes.models import Note

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

AUDIT_TABLE = "audit_auditentry"
LATER_TABLE = "devlab_test_later_table"
PASSWORD = "Runtime-role correct staple 42"


def _execute(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def role(transactional_db):
    name = f"devlab_test_rt_{uuid.uuid4().hex[:12]}"
    yield name
    _execute("RESET ROLE")
    _execute(f"DROP TABLE IF EXISTS {LATER_TABLE}")
    exists = _execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
    if exists:
        _execute(f"DROP OWNED BY {name}")  # its grants and default privileges
        _execute(f"DROP ROLE {name}")


@contextmanager
def as_role(name: str):
    """The app's own connection runs as ``name`` inside the block."""
    _execute(f"SET ROLE {name}")
    try:
        yield
    finally:
        _execute("RESET ROLE")


def _refused(sql: str) -> str:
    """Runs ``sql`` and returns PostgreSQL's refusal, which must be a missing privilege
    (not the append-only trigger, which also answers 42501 but says "append-only")."""
    with pytest.raises(DatabaseError) as refusal:
        _execute(sql)
    message = str(refusal.value)
    assert refusal.value.__cause__.sqlstate == "42501", message
    assert "append-only" not in message
    assert "permission denied" in message or "must be owner" in message, message
    return message


def _privileges(name: str) -> dict[str, str]:
    """The role's rights per table/sequence of the schema and in the default privileges."""
    rows = _execute(
        "SELECT c.relname, string_agg(a.privilege_type, ',' ORDER BY a.privilege_type) "
        "FROM pg_class c, aclexplode(c.relacl) a WHERE c.relnamespace = current_schema()::regnamespace "
        "AND a.grantee = %s::regrole GROUP BY c.relname",
        [name],
    )
    defaults = _execute(
        "SELECT 'default:' || d.defaclobjtype::text, string_agg(a.privilege_type, ',' ORDER BY a.privilege_type) "
        "FROM pg_default_acl d, aclexplode(d.defaclacl) a WHERE a.grantee = %s::regrole GROUP BY d.defaclobjtype",
        [name],
    )
    return dict(rows + defaults)


def test_the_command_creates_a_role_without_login_and_grants_append_only_on_the_audit_tables(role):
    call_command("db_runtime_role", role, verbosity=0)
    assert _execute("SELECT rolcanlogin, rolpassword IS NULL, rolsuper FROM pg_authid WHERE rolname = %s", [role]) == [
        (False, True, False)
    ]
    rights = _privileges(role)
    assert rights[AUDIT_TABLE] == "INSERT,SELECT"
    assert rights[f"{AUDIT_TABLE}_id_seq"] == "USAGE"
    assert rights["notes_note"] == "DELETE,INSERT,SELECT,UPDATE"
    assert rights["devlab_cache"] == "DELETE,INSERT,SELECT,UPDATE"
    assert rights["notes_note_id_seq"] == "SELECT,USAGE"
    assert rights["default:r"] == "DELETE,INSERT,SELECT,UPDATE"
    assert rights["default:S"] == "SELECT,USAGE"
    assert not any("TRUNCATE" in value or "TRIGGER" in value or "REFERENCES" in value for value in rights.values())
    assert AUDIT_TABLE in dbroles.audit_tables()
    for table in dbroles.audit_tables():
        assert rights[table] == "INSERT,SELECT", table


def test_the_runtime_role_cannot_rewrite_truncate_or_unprotect_the_audit_trail(role):
    call_command("db_runtime_role", role, verbosity=0)
    with as_role(role):
        for action in (Action.LOGOUT, Action.LOGIN_FAILED, Action.USER_DEMOTED):
            audit_record(action=action, actor_username="cli")
        head = AuditEntry.objects.order_by("-id").first()
        # The reproduction on main: disable the trigger, delete the newest rows, re-enable it.
        assert "must be owner" in _refused(f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER USER")
        _refused(f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER ALL")
        _refused(f"DELETE FROM {AUDIT_TABLE} WHERE id = {head.pk}")
        _refused(f"UPDATE {AUDIT_TABLE} SET detail = 'rewritten' WHERE id = {head.pk}")
        _refused(f"TRUNCATE {AUDIT_TABLE}")
        _refused(f"DROP TABLE {AUDIT_TABLE}")
        _refused(f"ALTER TABLE {AUDIT_TABLE} RENAME TO audit_old")
        _refused(f"ALTER TABLE {AUDIT_TABLE} OWNER TO {role}")
        _refused(f"DROP FUNCTION {AUDIT_TABLE}_append_only()")
        _refused(
            f"CREATE TRIGGER sneaky BEFORE INSERT ON {AUDIT_TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {AUDIT_TABLE}_append_only()"
        )
        _refused(f"SELECT setval('{AUDIT_TABLE}_id_seq', 1)")
        _refused(f"CREATE TABLE audit_shadow (LIKE {AUDIT_TABLE})")  # no CREATE on the schema (PostgreSQL 15)
    # The privileges refuse it even with the append-only trigger gone.
    _execute(f"ALTER TABLE {AUDIT_TABLE} DISABLE TRIGGER USER")
    try:
        with as_role(role):
            _refused(f"DELETE FROM {AUDIT_TABLE}")
            _refused(f"UPDATE {AUDIT_TABLE} SET detail = 'rewritten'")
    finally:
        _execute(f"ALTER TABLE {AUDIT_TABLE} ENABLE TRIGGER USER")
    assert AuditEntry.objects.order_by("-id").first().hash == head.hash
    assert audit_verify().ok
    assert audit_verify().checked == 3


def test_the_app_works_as_the_runtime_role(role):
    """Sign-up, log-in, notes, refresh and the cache through the API, every audit row
    appended by the writer (chain lock, head read, insert) as the runtime role."""
    call_command("db_runtime_role", role, verbosity=0)
    client = APIClient()
    with as_role(role):
        body = {"username": "runtime", "email": "runtime@example.com", "password": PASSWORD}
        assert client.post("/api/auth/signup/", body, format="json").status_code == 201
        tokens = client.post("/api/auth/login/", {"username": "runtime", "password": PASSWORD}, format="json").json()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        note = client.post("/api/notes/", {"text": "first"}, format="json").json()
        assert client.patch(f"/api/notes/{note['id']}/", {"text": "second"}, format="json").status_code == 200
        assert client.delete(f"/api/notes/{note['id']}/").status_code == 204
        assert client.post("/api/auth/refresh/", {"refresh": tokens["refresh"]}, format="json").status_code == 200
        caches["default"].set("runtime-role", 1)
        caches["default"].delete("runtime-role")
        assert _execute("SELECT current_user") == [(role,)]
    assert not Note.objects.exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["signup", "login_success", "note_created", "note_updated", "note_deleted"]
    assert audit_verify().ok


def test_the_command_is_idempotent_and_takes_back_rights_granted_by_hand(role):
    call_command("db_runtime_role", role, verbosity=0)
    granted = _privileges(role)
    call_command("db_runtime_role", role, verbosity=0)
    assert _privileges(role) == granted
    _execute(f"GRANT ALL ON {AUDIT_TABLE} TO {role}")
    _execute(f"GRANT ALL ON SEQUENCE {AUDIT_TABLE}_id_seq TO {role}")
    _execute(f"GRANT TRUNCATE, TRIGGER ON notes_note TO {role}")
    call_command("db_runtime_role", role, verbosity=0)
    assert _privileges(role) == granted


def test_a_table_created_after_the_command_gets_ordinary_rights(role):
    call_command("db_runtime_role", role, verbosity=0)
    _execute(f"CREATE TABLE {LATER_TABLE} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, value int)")
    with as_role(role):
        _execute(f"INSERT INTO {LATER_TABLE} (value) VALUES (1), (2)")
        _execute(f"UPDATE {LATER_TABLE} SET value = 3 WHERE value = 1")
        _execute(f"DELETE FROM {LATER_TABLE} WHERE value = 2")
        assert _execute(f"SELECT value FROM {LATER_TABLE}") == [(3,)]
        _refused(f"TRUNCATE {LATER_TABLE}")
        _refused(f"DROP TABLE {LATER_TABLE}")


def test_an_audit_table_a_later_migration_adds_is_append_only_after_migrate(role, monkeypatch):
    """A default privilege gives a new table full rights; migrate's post_migrate takes them
    back on every table of the audit app (here: a stand-in for one a later migration adds)."""
    call_command("db_runtime_role", role, verbosity=0)
    monkeypatch.setattr(dbroles, "audit_tables", lambda: [AUDIT_TABLE, LATER_TABLE])
    _execute(f"CREATE TABLE {LATER_TABLE} (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, value int)")
    with as_role(role):
        _execute(f"INSERT INTO {LATER_TABLE} (value) VALUES (1)")
        _execute(f"UPDATE {LATER_TABLE} SET value = 2")  # the default privileges alone allow it
    call_command("migrate", verbosity=0)
    with as_role(role):
        _execute(f"INSERT INTO {LATER_TABLE} (value) VALUES (3)")
        assert _execute(f"SELECT value FROM {LATER_TABLE} ORDER BY id") == [(2,), (3,)]
        _refused(f"UPDATE {LATER_TABLE} SET value = 4")
        _refused(f"DELETE FROM {LATER_TABLE}")
        _refused(f"TRUNCATE {LATER_TABLE}")
    assert _privileges(role)[LATER_TABLE] == "INSERT,SELECT"
    assert _privileges(role)[f"{LATER_TABLE}_id_seq"] == "USAGE"


def test_the_command_refuses_a_role_that_grants_cannot_limit(role):
    with pytest.raises(CommandError, match="superuser"):
        call_command("db_runtime_role", "postgres", verbosity=0)
    call_command("db_runtime_role", role, verbosity=0)
    # A role that owns a table here (or is a member of its owner) could alter it.
    _execute(f"CREATE TABLE {LATER_TABLE} (id int)")
    _execute(f"ALTER TABLE {LATER_TABLE} OWNER TO {role}")
    with pytest.raises(CommandError, match="owns tables here"):
        call_command("db_runtime_role", role, verbosity=0)
