"""Helpers of the checkpoint tests: a signing key, signing, and the tampering an insider would do."""

from django.core.management import call_command
from django.db import connection

from audit import chain, merkle
from audit.checkpoints import entry_leaf
from audit.models import PUBLIC_FIELDS, AuditEntry
from audit.services import signing_key
from tests.audit.triggers import triggers_lifted


def make_key(path, origin="devlab.test/audit") -> tuple[str, str]:
    signer, verifier = merkle.new_signer_key(origin)
    path.write_text(signer + "\n", encoding="utf-8")
    return signer, verifier


def sign() -> None:
    call_command("audit_checkpoint", verbosity=0)


def table_leaves() -> list[bytes]:
    return [entry_leaf(row) for row in AuditEntry.objects.order_by("id").values(*PUBLIC_FIELDS)]


def sql(statement: str, params=()) -> None:
    with triggers_lifted(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def skip_an_id() -> None:
    """Leaves a gap in the ids, as a rolled-back insert does on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), "
                "(SELECT MAX(id) + 1 FROM audit_auditentry))"
            )
        else:
            cursor.execute("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'audit_auditentry'")


def edit_row(entry_id: int) -> None:
    sql("UPDATE audit_auditentry SET detail = 'nothing happened' WHERE id = %s", [entry_id])


def delete_row(entry_id: int) -> None:
    sql("DELETE FROM audit_auditentry WHERE id = %s", [entry_id])


def cut_off_after(entry_id: int) -> None:
    sql("DELETE FROM audit_auditentry WHERE id > %s", [entry_id])


def swap_rows(first_id: int, second_id: int) -> None:
    """Exchanges every column but the id: the two events change places in the chain."""
    columns = [name for name in PUBLIC_FIELDS if name not in {"id", "actor_id"}] + ["actor_id"]
    a = AuditEntry.objects.filter(id=first_id).values(*columns).get()
    b = AuditEntry.objects.filter(id=second_id).values(*columns).get()
    assignments = ", ".join(f"{name} = %s" for name in columns)
    sql("UPDATE audit_auditentry SET prev_hash = 'swapping' WHERE id = %s", [first_id])  # unique prev_hash
    sql(f"UPDATE audit_auditentry SET {assignments} WHERE id = %s", [*(a[c] for c in columns), second_id])  # noqa: S608
    sql(f"UPDATE audit_auditentry SET {assignments} WHERE id = %s", [*(b[c] for c in columns), first_id])  # noqa: S608


def insert_forged(entry_id: int, prev_hash: str) -> None:
    sql(
        "INSERT INTO audit_auditentry (id, created_at, action, actor_username, detail, user_agent, request_id, "
        "prev_hash, hash) VALUES (%s, %s, 'logout', 'alice', '', '', '', %s, %s)",
        [entry_id, AuditEntry.objects.latest("id").created_at, prev_hash, "b" * 64],
    )


def edit_and_resign(entry_id: int) -> None:
    """An insider with the HMAC key: edits a row and re-chains every row from it on, so
    that the HMAC chain verifies again."""
    edit_row(entry_id)
    key = signing_key()
    rows = list(AuditEntry.objects.filter(id__gte=entry_id).order_by("id").values(*PUBLIC_FIELDS))
    prev_hash = AuditEntry.objects.filter(id__lt=entry_id).order_by("-id").values_list("hash", flat=True).first()
    prev_hash = prev_hash or chain.GENESIS
    # New hashes may collide with the old prev_hash values (unique): clear them first.
    sql("UPDATE audit_auditentry SET prev_hash = 'x' || id WHERE id >= %s", [entry_id])
    for row in rows:
        row["prev_hash"] = prev_hash
        new_hash = chain.entry_hash(key, prev_hash, row)
        sql("UPDATE audit_auditentry SET prev_hash = %s, hash = %s WHERE id = %s", [prev_hash, new_hash, row["id"]])
        prev_hash = new_hash
