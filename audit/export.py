"""The audit export: each entry's document, written as CSV or JSON Lines.

One definition shared by ``GET /api/audit/logs/export/`` and ``manage.py
audit_export``:

- ``export_documents(queryset)`` streams the **export document** of every
  entry of a queryset, in the queryset's order: the entry's ``PUBLIC_FIELDS``
  as JSON-ready values (``audit.models.entry_document``: the API's entry
  JSON). It is exactly what one JSONL line holds, and so also what a Merkle
  leaf of a signed checkpoint is made of (AUDIT.md 10: the leaf is this
  document as sorted, compact JSON).
- ``jsonl_lines`` writes each document as ``json.dumps(document,
  ensure_ascii=False)`` and a newline: the exact stored values.
- ``csv_lines`` writes a header and one row per document; a cell a spreadsheet
  could run as a formula gets a leading ``'`` (``csv_cell``).

Memory stays flat in the row count: rows are read through a server-side
cursor ``EXPORT_CHUNK_SIZE`` at a time (``audit.selectors.stream``) and
written ``EXPORT_ROWS_PER_WRITE`` lines at a time.
"""

import csv
import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping

from django.db.models import QuerySet

from audit import selectors
from audit.filters import AuditEntryFilter
from audit.models import PUBLIC_FIELDS, AuditEntry, entry_document

#: Rows fetched from the database at a time.
EXPORT_CHUNK_SIZE = 2000
#: Lines joined into one write: fewer, larger writes than one per row.
EXPORT_ROWS_PER_WRITE = 500

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP
# "CSV injection"); usernames, user agents and details are attacker-chosen.
# Compared after NFKC, so their full-width (U+FF1D, U+FF0B, U+FF0D, U+FF20) and
# small (U+FE66, U+FE62, U+FE63, U+FE6B) forms, which spreadsheets may fold
# into the ASCII ones, count too.
_FORMULA_STARTS = frozenset("=+-@")


class ExportFilterError(ValueError):
    """Filters that do not validate; ``errors`` maps each filter to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__(errors)
        self.errors = dict(errors)


def export_queryset(filters: Mapping[str, str] | None = None) -> QuerySet[AuditEntry]:
    """The entries matching the API's filters (``action``, ``actor``, ``since``,
    ``until``, ``ip``, as strings), oldest first (time, then id).

    The same ``AuditEntryFilter`` as the API validates the values; one that does
    not parse raises ``ExportFilterError`` naming it.
    """
    filterset = AuditEntryFilter(dict(filters or {}), queryset=AuditEntry.objects.all())
    if not filterset.is_valid():
        raise ExportFilterError({name: [str(m) for m in messages] for name, messages in filterset.errors.items()})
    return filterset.qs.order_by("created_at", "id")


def export_documents(queryset: QuerySet[AuditEntry], *, chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[dict]:
    """The export document of each entry of ``queryset``, in its order, streamed.

    The document is ``entry_document``: the ``PUBLIC_FIELDS`` with
    ``created_at`` as ISO 8601 UTC ``Z``; exactly the object one JSONL line
    holds (and a checkpoint's Merkle leaf is built from).
    """
    rows = selectors.stream(queryset.values(*PUBLIC_FIELDS), chunk_size=chunk_size)
    try:
        for row in rows:
            yield entry_document(row)
    finally:
        rows.close()  # ends the read's transaction and cursor when the consumer stops early


def jsonl_line(document: Mapping) -> str:
    """One JSONL line: the document as it is, non-ASCII kept, and a newline."""
    return json.dumps(document, ensure_ascii=False) + "\n"


def jsonl_lines(documents: Iterable[Mapping]) -> Iterator[str]:
    for document in documents:
        yield jsonl_line(document)


def csv_cell(value: object) -> object:
    """A CSV cell: None is empty, and text a spreadsheet could run as a formula
    (starting with ``= + - @``, their full-width forms, or any whitespace such
    as a space, tab or carriage return before them) gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value:
        first = value[0]
        if first.isspace() or unicodedata.normalize("NFKC", first)[:1] in _FORMULA_STARTS:
            return "'" + value
    return value


class _Line:
    """A file-like ``write`` that returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(documents: Iterable[Mapping]) -> Iterator[str]:
    """A header of ``PUBLIC_FIELDS``, then one row per document."""
    writer = csv.writer(_Line())
    yield writer.writerow(PUBLIC_FIELDS)
    for document in documents:
        yield writer.writerow([csv_cell(document[name]) for name in PUBLIC_FIELDS])


LINES = {"csv": csv_lines, "jsonl": jsonl_lines}


def batched(lines: Iterable[str], size: int | None = None) -> Iterator[str]:
    """Joins ``size`` lines (default ``EXPORT_ROWS_PER_WRITE``) into one string per write."""
    size = size or EXPORT_ROWS_PER_WRITE
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)
