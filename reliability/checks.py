"""What the database says after a scenario: lost writes, half-writes, the chain.

* Every acknowledged (2xx) write has exactly one audit row of its action,
  found by the request's ``X-Request-ID``.
* No write that DevLab itself answered with an error left its success row
  behind. A write whose answer never came (connection cut, or nginx's 502
  for a replica that died) may have committed or not: only the consistency
  checks below judge it (whole, or absent).
* Notes and users agree with the trail whatever the clients saw (a request
  cut off mid-way has no answer, so only this tells): every note has its
  ``note_created`` row, every vanished note its ``note_deleted`` row, every
  load user its ``signup`` row, and the reverse.
* The chain verifies (``manage.py verify_audit`` in a real process) and no two
  rows share a predecessor (a fork).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from reliability.client import Ledger, Record

ROOT = Path(__file__).resolve().parent.parent
LOAD_USER_PREFIX = "rl_"


@dataclass
class WriteCheck:
    acknowledged: int = 0
    found: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    written_although_refused: list[str] = field(default_factory=list)
    # Writes whose answer never came from DevLab, and how many of them had committed.
    unknown: int = 0
    unknown_committed: int = 0
    # Error answers whose COMMIT was in doubt (in flight at a crash) and had in fact committed.
    in_doubt_committed: int = 0

    @property
    def problems(self) -> list[str]:
        out = []
        if self.missing:
            out.append(f"{len(self.missing)} acknowledged writes without their audit row, e.g. {self.missing[:3]}")
        if self.duplicated:
            out.append(f"{len(self.duplicated)} writes with more than one audit row, e.g. {self.duplicated[:3]}")
        if self.written_although_refused:
            out.append(
                f"{len(self.written_although_refused)} writes answered with an error but recorded, "
                f"e.g. {self.written_although_refused[:3]}"
            )
        return out


def check_writes(
    conn: psycopg.Connection, ledger: Ledger, in_doubt: Callable[[Record], bool] | None = None
) -> WriteCheck:
    """Matches every write the clients sent with the audit rows of its request id.

    ``in_doubt(record)`` names error answers whose COMMIT may have reached the
    server: PostgreSQL crashing while a COMMIT is on the wire makes it durable
    on the server but an error for the client (DevLab answers 503). Those may
    be found written, whole; they are counted, not failed.
    """
    records = [r for r in ledger.snapshot() if r.expected_action]
    rows: dict[str, list[str]] = {}
    ids = [r.request_id for r in records]
    for start in range(0, len(ids), 5000):
        for request_id, action in conn.execute(
            "SELECT request_id, action FROM audit_auditentry WHERE request_id = ANY(%s)", [ids[start : start + 5000]]
        ):
            rows.setdefault(request_id, []).append(action)
    result = WriteCheck()
    for record in records:
        matching = [a for a in rows.get(record.request_id, []) if a == record.expected_action]
        if record.ok:
            result.acknowledged += 1
            if len(matching) == 1:
                result.found += 1
            elif not matching:
                result.missing.append(f"{record.kind} {record.request_id}")
            else:
                result.duplicated.append(f"{record.kind} {record.request_id}")
        elif record.outcome_unknown:
            result.unknown += 1
            result.unknown_committed += bool(matching)
        elif record.status >= 400 and matching and in_doubt is not None and in_doubt(record):
            result.in_doubt_committed += 1
        elif record.status >= 400 and matching:
            result.written_although_refused.append(f"{record.kind} {record.status} {record.request_id}")
    return result


_CONSISTENCY = {
    "notes without their note_created row": """
        SELECT n.id FROM notes_note n WHERE NOT EXISTS (
          SELECT 1 FROM audit_auditentry a
          WHERE a.action = 'note_created' AND a.target_type = 'note' AND a.target_id = n.id)""",
    "notes recorded as deleted that still exist": """
        SELECT a.target_id FROM audit_auditentry a JOIN notes_note n ON n.id = a.target_id
        WHERE a.action = 'note_deleted' AND a.target_type = 'note'""",
    "notes gone without a note_deleted row": """
        SELECT a.target_id FROM audit_auditentry a
        WHERE a.action = 'note_created' AND a.target_type = 'note'
          AND NOT EXISTS (SELECT 1 FROM notes_note n WHERE n.id = a.target_id)
          AND NOT EXISTS (SELECT 1 FROM audit_auditentry d
                          WHERE d.action = 'note_deleted' AND d.target_type = 'note' AND d.target_id = a.target_id)""",
    "notes with more than one note_created or note_deleted row": """
        SELECT target_id FROM audit_auditentry
        WHERE action IN ('note_created', 'note_deleted') AND target_type = 'note'
        GROUP BY action, target_id HAVING count(*) > 1""",
    "audit rows about notes that never existed": """
        SELECT a.target_id FROM audit_auditentry a
        WHERE a.action = 'note_updated' AND a.target_type = 'note'
          AND NOT EXISTS (SELECT 1 FROM audit_auditentry c
                          WHERE c.action = 'note_created' AND c.target_type = 'note' AND c.target_id = a.target_id)""",
    "load users without their signup row": f"""
        SELECT u.id FROM accounts_user u WHERE u.username LIKE '{LOAD_USER_PREFIX}%%' AND NOT EXISTS (
          SELECT 1 FROM audit_auditentry a
          WHERE a.action = 'signup' AND a.target_type = 'user' AND a.target_id = u.id)""",  # noqa: S608 - a constant
    "signup rows of users that do not exist": """
        SELECT a.target_id FROM audit_auditentry a WHERE a.action = 'signup'
          AND NOT EXISTS (SELECT 1 FROM accounts_user u WHERE u.id = a.target_id)""",
    "forks: rows sharing a predecessor": """
        SELECT prev_hash FROM audit_auditentry GROUP BY prev_hash HAVING count(*) > 1""",
}


def check_consistency(conn: psycopg.Connection) -> list[str]:
    """Half-written actions, whatever the clients were told."""
    problems = []
    for label, sql in _CONSISTENCY.items():
        bad = [row[0] for row in conn.execute(sql).fetchall()]
        if bad:
            problems.append(f"{len(bad)} {label}, e.g. {bad[:5]}")
    return problems


def count_rows(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - a fixed table name


def verify_chain(env: dict[str, str]) -> tuple[bool, str]:
    """``manage.py verify_audit`` against the scenario's database: (ok, its summary line)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit", "--verbosity", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    summary = lines[-1] if lines else f"exit {result.returncode}"
    return result.returncode == 0, summary
