"""Writing and checking the audit trail.

``audit_record`` is the one writer of events: receivers call it, nothing else
inserts rows. ``audit_append_batch`` appends prepared rows in bulk through the
same chain lock, for the demo app's seeders (demo/, not installed in
production). ``audit_verify`` re-computes the chain.

Appending a row costs two round trips on PostgreSQL, inside the caller's
transaction and without a savepoint: the chain lock
(``pg_advisory_xact_lock``, held until that transaction ends) with the head
hash, then the insert. On SQLite the writer lock that every transaction takes
up front (``transaction_mode=IMMEDIATE`` in settings) serialises appends; a
unique index on ``prev_hash`` refuses a fork on any database.
"""

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from functools import cache, partial
from itertools import islice

from django.conf import settings
from django.db import connection, models, reset_queries, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery
from django.utils import timezone

from api.queries import compiled
from audit import chain, selectors
from audit.models import (
    ACTOR_USERNAME_MAX_LENGTH,
    DETAIL_MAX_LENGTH,
    PUBLIC_FIELDS,
    REQUEST_ID_MAX_LENGTH,
    Action,
    AuditEntry,
    TargetType,
    entry_document,
)
from devlab import context, metrics
from devlab.http import USER_AGENT_MAX_LENGTH

logger = logging.getLogger("audit")

#: Events of requests that fail: their rows must survive the request's rollback.
FAILURE_ACTIONS = frozenset(
    {
        Action.LOGIN_FAILED,
        Action.LOGIN_THROTTLED,
        Action.TOKEN_REUSE,
        Action.ACCESS_DENIED,
        Action.PASSWORD_CHANGE_FAILED,
        Action.MFA_FAILED,
    }
)

#: ``actor_username`` of changes made on the command line.
CLI_USERNAME = "cli"

#: The PostgreSQL advisory lock key that serialises appends ("devlab" + 1).
CHAIN_LOCK_KEY = 0x646576_6C6162_01

_TARGET_TYPES = {settings.AUTH_USER_MODEL.lower(): TargetType.USER, "notes.note": TargetType.NOTE}
# NUL and lone surrogates cannot be stored (PostgreSQL text, UTF-8); they come
# from attacker-chosen input such as an attempted username.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def signing_key() -> bytes:
    """The chain's HMAC key: ``AUDIT_SIGNING_KEY``, else derived from ``SECRET_KEY``."""
    if settings.AUDIT_SIGNING_KEY:
        return settings.AUDIT_SIGNING_KEY.encode("utf-8")
    return chain.derive_key(settings.SECRET_KEY)


def verification_keys() -> list[bytes]:
    """Every key a row may be signed with, newest first: the signing key, then
    ``AUDIT_PREVIOUS_SIGNING_KEYS`` (the keys of before each rotation)."""
    return [signing_key(), *(key.encode("utf-8") for key in settings.AUDIT_PREVIOUS_SIGNING_KEYS if key)]


def _text(value: str, max_length: int) -> str:
    return _UNSTORABLE.sub("\ufffd", str(value))[:max_length]


def _target(target: Model | None) -> tuple[str | None, int | None]:
    if target is None:
        return None, None
    return _TARGET_TYPES[target._meta.label_lower], target.pk


def _row_fields(*, action, actor, actor_username, target, detail) -> dict:
    """Everything of a row except its time and chain links, request context included."""
    ctx = context.current()
    target_type, target_id = _target(target)
    if actor_username is None:
        actor_username = actor.get_username() if actor is not None else ""
    return {
        "action": Action(action).value,
        "actor_id": actor.pk if actor is not None else None,
        "actor_username": _text(actor_username, ACTOR_USERNAME_MAX_LENGTH),
        "target_type": target_type,
        "target_id": target_id,
        "detail": _text(detail, DETAIL_MAX_LENGTH),
        # Stored the way the column normalises it, so the mirror line and a
        # re-read row agree.
        "ip": AuditEntry._meta.get_field("ip").get_prep_value(ctx.ip) if ctx and ctx.ip else None,
        "user_agent": _text(ctx.user_agent, USER_AGENT_MAX_LENGTH) if ctx else "",
        "request_id": _text(ctx.request_id, REQUEST_ID_MAX_LENGTH) if ctx else "",
    }


def _locked_head_hash() -> str:
    """Takes the chain lock (until the transaction ends), then reads the last row's hash.

    On PostgreSQL that is one round trip: psycopg's client-side cursor (Django's
    default; not with the ``server_side_binding`` option) sends both statements
    as one simple-protocol query. Under READ COMMITTED each
    statement takes its own snapshot, so the ``SELECT`` runs once the lock is
    granted and sees the row of whoever held it before
    (``tests/audit/test_concurrency.py``). Every round trip made while holding
    the lock is time every other writer waits: under load the lock, not the
    CPU, bounded note creation (``bench/README.md``). On SQLite the write lock
    every transaction takes up front serialises appends.
    """
    head = compiled(
        ("audit_head", connection.alias), lambda: AuditEntry.objects.order_by("-id").values_list("hash")[:1]
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT pg_advisory_xact_lock(%s); {head.sql}", [CHAIN_LOCK_KEY, *head.params])
            cursor.nextset()
        else:
            cursor.execute(head.sql, head.params)
        row = cursor.fetchone()
    return row[0] if row else chain.GENESIS


@cache
def _insert_statement(alias: str) -> tuple[str, tuple]:
    """The ORM's own single-row INSERT of an audit entry on this database, and its fields."""
    meta = AuditEntry._meta
    fields = tuple(field for field in meta.local_concrete_fields if field is not meta.pk)
    query = InsertQuery(AuditEntry)
    query.insert_values(fields, [AuditEntry(created_at=timezone.now())])
    compiler = query.get_compiler(alias)
    compiler.returning_fields = [meta.pk]  # RETURNING: PostgreSQL, and SQLite since 3.35
    [(sql, _)] = compiler.as_sql()
    return sql, fields


def _insert(entry: AuditEntry) -> None:
    """``entry.save(force_insert=True)`` with the statement compiled once: the same SQL and
    the values the ORM would send, in a fraction of its time, which is time under the lock."""
    sql, fields = _insert_statement(connection.alias)
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        entry.pk = cursor.fetchone()[0]
    entry._state.adding = False
    entry._state.db = connection.alias


def _mirror(entry: AuditEntry) -> None:
    logger.info("audit %s", entry.action, extra=entry_document(entry.__dict__))


def _committed(entry: AuditEntry, asked: float, locked: float) -> None:
    """After the commit: the mirror line, and the metrics (``asked``/``locked``: when the
    chain lock was asked for and obtained, ``perf_counter`` times)."""
    _mirror(entry)
    metrics.audit_row_committed(entry.action, asked, locked)


def _append(fields: Mapping) -> AuditEntry:
    # savepoint=False: inside the caller's transaction this adds no query, and
    # an error still rolls the caller back (the action and its row together).
    key = signing_key()
    with transaction.atomic(savepoint=False):
        asked = time.perf_counter()
        prev_hash = _locked_head_hash()
        locked = time.perf_counter()
        entry = AuditEntry(created_at=timezone.now(), prev_hash=prev_hash, **fields)
        entry.hash = chain.entry_hash(key, prev_hash, entry.__dict__)
        _insert(entry)
        transaction.on_commit(partial(_committed, entry, asked, locked))
    return entry


def _append_after_response(fields: Mapping) -> None:
    try:
        _append(fields)
    except Exception:
        # The request has already failed and answered; the event must not be
        # lost silently, so it goes to the audit log with the error.
        logger.exception("audit entry could not be written", extra=dict(fields))


def audit_record(
    *,
    action: str,
    actor: Model | None = None,
    actor_username: str | None = None,
    target: Model | None = None,
    detail: str = "",
) -> AuditEntry | None:
    """Appends one entry to the audit chain; the only way rows are written.

    ``actor_username`` defaults to the actor's username (``""`` without an
    actor); pass ``CLI_USERNAME`` for the command line. ``target`` is a user or
    a note. IP, user agent and request id come from the current request.

    Success events are written inside the caller's transaction: if this
    fails, the caller's action rolls back with it. Failure events (see
    ``FAILURE_ACTIONS``) raised inside a transaction during a request are
    deferred until the request's transaction has ended, so that the request's
    rollback cannot take them along; None is returned for those.
    """
    fields = _row_fields(action=action, actor=actor, actor_username=actor_username, target=target, detail=detail)
    ctx = context.current()
    if action in FAILURE_ACTIONS and ctx is not None and connection.in_atomic_block:
        ctx.after_response.append(partial(_append_after_response, fields))
        return None
    return _append(fields)


@dataclass(frozen=True)
class VerifyResult:
    """``checked`` counts the rows examined, the bad one included."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None
    #: The latest signed checkpoint the table was held against (AUDIT.md 10): its tree size.
    checkpoint: int | None = None


REASON_HASH = "hash does not match the row: the row was changed, or forged without the key"
REASON_LINK = "prev_hash does not match the previous row's hash: a row was deleted or inserted before this one"
REASON_GENESIS = "the first row does not start the chain: older rows were deleted"
REASON_OLD_KEY = "the row is signed with a key older than its predecessor's: a previous key was used after the rotation"

_VERIFY_COLUMNS = ("id", "prev_hash", "hash", *chain.HASHED_FIELDS)


def audit_verify(
    *, chunk_size: int = 5000, progress: Callable[[int], None] | None = None, progress_every: int = 100_000
) -> VerifyResult:
    """Re-computes the chain in id order and reports the first row that breaks it.

    Reads the table once through a server-side cursor (``iterator``), so
    memory stays flat whatever its size. ``progress(checked)`` is called every
    ``progress_every`` rows.
    """
    from audit import checkpoints  # it imports this module's keys

    keys = verification_keys()
    latest = checkpoints.latest_checkpoint()
    rows = selectors.stream(AuditEntry.objects.order_by("id").values_list(*_VERIFY_COLUMNS), chunk_size=chunk_size)
    if latest is None:
        with closing(rows):
            return _verify_rows(rows, keys, progress, progress_every)
    # The walk also recomputes the root of the first tree_size rows: rows cut off the
    # end, or a chain re-signed with the HMAC key after an edit, fail here.
    watch = checkpoints.CheckpointWatch(latest, _VERIFY_COLUMNS)
    with closing(rows):
        result = _verify_rows(watch.rows(rows), keys, progress, progress_every)
    if not result.ok:
        return replace(result, checkpoint=latest.tree_size)
    problem = watch.problem()
    if problem is None:
        return replace(result, checkpoint=latest.tree_size)
    return VerifyResult(
        ok=False,
        checked=result.checked,
        first_bad_id=watch.first_changed_id,
        reason=problem,
        checkpoint=latest.tree_size,
    )


def _signed_with(keys: list[bytes], row: Mapping, likely: int) -> int | None:
    """The index in ``keys`` of the key that signed ``row``, or None when none did;
    ``keys[likely]`` (the predecessor's key) is tried first."""
    for index in (likely, *(other for other in range(len(keys)) if other != likely)):
        try:
            if chain.hash_matches(keys[index], row["prev_hash"], row, row["hash"]):
                return index
        except (ValueError, TypeError):  # a tampered value that cannot even be serialised
            return None
    return None


def _verify_rows(rows, keys: list[bytes], progress, progress_every: int) -> VerifyResult:
    """Each row must link to its predecessor and be signed with one of ``keys`` (newest
    first), never with a key older than its predecessor's: rotations only go forward, so a
    leaked old key cannot sign rows after the rotation."""
    expected_prev = chain.GENESIS
    checked = 0
    era = len(keys) - 1  # the index of the key the previous row was signed with
    for values in rows:
        row = dict(zip(_VERIFY_COLUMNS, values, strict=True))
        checked += 1
        if row["prev_hash"] != expected_prev:
            reason = REASON_GENESIS if checked == 1 else REASON_LINK
            return VerifyResult(ok=False, checked=checked, first_bad_id=row["id"], reason=reason)
        index = _signed_with(keys, row, likely=era)
        if index is None:
            return VerifyResult(ok=False, checked=checked, first_bad_id=row["id"], reason=REASON_HASH)
        if index > era:
            return VerifyResult(ok=False, checked=checked, first_bad_id=row["id"], reason=REASON_OLD_KEY)
        era = index
        expected_prev = row["hash"]
        if progress is not None and checked % progress_every == 0:
            progress(checked)
    return VerifyResult(ok=True, checked=checked)


#: The fields a batch-appended row may carry; the chain links are computed here.
BATCH_FIELDS = frozenset(PUBLIC_FIELDS) - {"id", "prev_hash", "hash"}


def audit_append_batch(
    entries: Iterable[Mapping], *, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Appends many prepared rows to the chain (the demo app's seeders); returns how many.

    Each entry gives ``BATCH_FIELDS`` (its own ``created_at`` included); the
    chain links are computed here. Every ``batch_size`` rows take the chain
    lock, read the head and go in with one insert, in a transaction of their
    own, so live writers interleave between batches and the rows continue the
    chain wherever it stands. ``progress(done)`` follows each batch. No mirror
    line is logged: these are not events.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    key = signing_key()
    done = 0
    for chunk in _chunks(entries, batch_size):
        with transaction.atomic():
            prev_hash = _locked_head_hash()
            batch = []
            for fields in chunk:
                unknown = set(fields) - BATCH_FIELDS
                if unknown:
                    raise ValueError(f"not fields of a batch-appended row: {', '.join(sorted(unknown))}")
                entry = AuditEntry(prev_hash=prev_hash, **fields)
                entry.hash = prev_hash = chain.entry_hash(key, prev_hash, entry.__dict__)
                batch.append(entry)
            # A plain queryset on purpose: AuditEntry.objects refuses bulk
            # writes, and this module is the only writer.
            models.QuerySet(model=AuditEntry).bulk_create(batch)
        # With DEBUG on, every batch's SQL (megabytes) would stay in memory.
        reset_queries()
        done += len(batch)
        if progress is not None:
            progress(done)
    return done


def _chunks(entries: Iterable[Mapping], size: int) -> Iterator[list[Mapping]]:
    iterator = iter(entries)
    while chunk := list(islice(iterator, size)):
        yield chunk
