"""audit/export.py: the export documents and their CSV and JSONL lines, shared by the API and the CLI."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from audit import export
from audit.models import PUBLIC_FIELDS, Action, AuditEntry
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def _document(**values) -> dict:
    document = dict.fromkeys(PUBLIC_FIELDS)
    document.update(values)
    return document


def test_a_jsonl_line_is_the_document_as_json_with_non_ascii_kept_and_a_newline():
    # Byte for byte what the export has always written: a checkpoint's leaves
    # and every export already handed out depend on it.
    line = export.jsonl_line({"id": 7, "created_at": "2026-01-02T03:04:05.123456Z", "detail": "ação ☃", "ip": None})
    assert line == '{"id": 7, "created_at": "2026-01-02T03:04:05.123456Z", "detail": "ação ☃", "ip": null}\n'


def test_export_documents_are_the_api_entries_in_the_querysets_order(admin_api_client, user, request_context):
    first = audit_record(action=Action.LOGIN_SUCCESS, actor=user, target=user)
    second = audit_record(action=Action.LOGOUT, actor=user, target=user, detail="ação")
    documents = list(export.export_documents(AuditEntry.objects.order_by("-id")))
    api = admin_api_client.get("/api/audit/logs/").json()["results"]
    assert documents == api
    assert [d["id"] for d in documents] == [second.pk, first.pk]
    assert list(documents[0]) == list(PUBLIC_FIELDS)


def test_export_documents_end_their_read_when_the_consumer_stops_early(user):
    for _ in range(3):
        audit_record(action=Action.LOGOUT, actor=user)
    documents = export.export_documents(AuditEntry.objects.order_by("id"), chunk_size=1)
    in_block = connection.in_atomic_block
    next(documents)
    documents.close()
    assert connection.in_atomic_block == in_block


def test_the_export_queryset_applies_the_api_filters_oldest_first(user, other_user):
    mine = [audit_record(action=Action.LOGOUT, actor=user) for _ in range(2)]
    audit_record(action=Action.LOGOUT, actor=other_user)
    audit_record(action=Action.LOGIN_SUCCESS, actor=user)
    queryset = export.export_queryset({"actor": str(user.pk), "action": "logout"})
    assert list(queryset.values_list("id", flat=True)) == [e.pk for e in mine]


@pytest.mark.parametrize(
    ("filters", "bad"),
    [
        ({"action": "nope"}, "action"),
        ({"actor": "x"}, "actor"),
        ({"actor": "0"}, "actor"),
        ({"since": "yesterday"}, "since"),
        ({"until": ""}, "until"),
        ({"ip": "300.1.1.1"}, "ip"),
    ],
)
def test_a_filter_that_does_not_parse_is_an_error_naming_it(filters, bad):
    with pytest.raises(export.ExportFilterError) as error:
        export.export_queryset(filters)
    assert list(error.value.errors) == [bad]


@pytest.mark.parametrize(
    "value",
    [
        *("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", " =cmd", "\u00a0=1", "\u3000=1"),
        *("\uff1dcmd", "\uff0b1", "\uff0d1", "\uff20A1", "\ufe66cmd", "\ufe621", "\ufe631", "\ufe6bA1"),
    ],
)
def test_a_csv_cell_a_spreadsheet_could_run_gets_a_leading_quote(value):
    assert export.csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["alice", "a=b", "1+1", "Mozilla/5.0", "'quoted", "", 42, "203.0.113.9"])
def test_other_csv_cells_are_written_as_they_are(value):
    assert export.csv_cell(value) == value


def test_a_missing_value_is_an_empty_csv_cell():
    assert export.csv_cell(None) == ""


def test_csv_lines_are_a_header_and_one_row_per_document():
    stamp = datetime(2026, 1, 2, tzinfo=UTC).isoformat()
    documents = [_document(id=1, created_at=stamp, action="logout", detail="x,\ny"), _document(id=2, detail="=2")]
    rows = list(csv.reader(io.StringIO("".join(export.csv_lines(documents)))))
    assert rows[0] == list(PUBLIC_FIELDS)
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert rows[1][PUBLIC_FIELDS.index("detail")] == "x,\ny"
    assert rows[2][PUBLIC_FIELDS.index("detail")] == "'=2"


def test_jsonl_lines_parse_back_to_the_documents():
    documents = [_document(id=1, detail="a\nb"), _document(id=2, detail='"q"')]
    assert [json.loads(line) for line in export.jsonl_lines(documents)] == documents


def test_lines_are_written_in_batches():
    assert list(export.batched(iter("abcde"), 2)) == ["ab", "cd", "e"]
    assert list(export.batched(iter(()), 2)) == []
