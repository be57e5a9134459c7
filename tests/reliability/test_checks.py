"""How `make reliability` judges a write by its answer and the audit rows of its request id."""

from reliability.checks import check_writes
from reliability.client import Ledger, Record


class _Rows:
    """Stands in for a psycopg connection: the audit rows (request_id, action) there are."""

    def __init__(self, rows):
        self.rows = rows

    def execute(self, sql, params):
        wanted = set(params[0])
        return [row for row in self.rows if row[0] in wanted]


def _ledger(*records: Record) -> Ledger:
    ledger = Ledger()
    for record in records:
        ledger.add(record)
    return ledger


def _write(request_id: str, status: int, content_type: str = "application/json") -> Record:
    return Record("note_create", "POST", "/api/notes/", request_id, status=status, content_type=content_type)


def test_acknowledged_write_with_exactly_its_row_is_found():
    result = check_writes(_Rows([("a", "note_created")]), _ledger(_write("a", 201)))
    assert (result.acknowledged, result.found, result.problems) == (1, 1, [])


def test_acknowledged_write_without_its_row_is_lost():
    result = check_writes(_Rows([("a", "note_updated")]), _ledger(_write("a", 201)))
    assert result.missing == ["note_create a"]


def test_acknowledged_write_with_two_rows_is_doubled():
    result = check_writes(_Rows([("a", "note_created"), ("a", "note_created")]), _ledger(_write("a", 201)))
    assert result.duplicated == ["note_create a"]


def test_error_answer_with_a_written_row_fails():
    result = check_writes(_Rows([("a", "note_created")]), _ledger(_write("a", 503)))
    assert result.written_although_refused == ["note_create 503 a"]


def test_error_answer_whose_commit_was_in_doubt_may_be_written():
    result = check_writes(_Rows([("a", "note_created")]), _ledger(_write("a", 503)), in_doubt=lambda r: True)
    assert (result.problems, result.in_doubt_committed) == ([], 1)


def test_proxy_502_is_an_unknown_outcome_not_a_refusal():
    record = _write("a", 502, content_type="text/html")
    result = check_writes(_Rows([("a", "note_created")]), _ledger(record))
    assert (result.problems, result.unknown, result.unknown_committed) == ([], 1, 1)
