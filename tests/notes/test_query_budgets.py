"""Query budgets of the notes API, on a real bearer token, in ``transaction=True`` tests.

The issue's budgets: GET /api/notes/ at most 3 queries, POST at most 6, whatever
the page size. A list is the user, the throttle's counter hit (one upsert,
api/throttling.py) and the page: 3. A create is the user, the throttle, the
insert and the audit row (the chain head, read under the chain lock on
PostgreSQL in the same round trip, and the insert): 5.
Django (since 4.2) also logs a transaction's ``BEGIN`` and ``COMMIT`` among the
queries; they are no statements of work and are allowed on top for writes.
``transaction=True`` keeps test-transaction savepoints out of the count.
"""

import pytest

from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, bearer, note_url

pytestmark = pytest.mark.django_db(transaction=True)

JWT_USER = 1
THROTTLE = 1  # one counter upsert
TRANSACTION = 2  # BEGIN and COMMIT
# The chain head (with the chain lock in the same round trip on PostgreSQL; SQLite's
# writer lock serialises appends), then the insert.
AUDIT_ROW = 2

LIST_BUDGET = JWT_USER + THROTTLE + 1  # the page, nothing per row: the 3
CREATE_BUDGET = JWT_USER + THROTTLE + 1 + AUDIT_ROW  # the insert and the audit row: 5 (the issue allows 6)
DETAIL_WRITE_BUDGET = JWT_USER + THROTTLE + 1 + 1 + AUDIT_ROW  # the note, its update or delete, the audit row


def _work(captured) -> list[str]:
    """The request's statements of work: all but BEGIN and COMMIT."""
    statements = [query["sql"] for query in captured.captured_queries]
    return [sql for sql in statements if sql not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")]


@pytest.fixture
def api(user):
    NoteFactory.create_batch(120, owner=user)
    api = bearer(user)
    api.get(NOTES_URL)  # the first request warms lazy state (content types, translations)
    return api


@pytest.mark.parametrize(
    "query",
    ["", "?page_size=1", "?page_size=100", "?search=note&ordering=-updated_at", "?ordering=created_at", "next page"],
)
def test_a_list_page_costs_the_user_and_one_query_whatever_its_size(api, query, django_assert_max_num_queries):
    url = api.get(NOTES_URL).json()["next"] if query == "next page" else NOTES_URL + query
    with django_assert_max_num_queries(LIST_BUDGET):
        assert api.get(url).status_code == 200


def test_a_create_costs_the_user_the_insert_and_the_audit_row(api, django_assert_max_num_queries):
    api.post(NOTES_URL, {"text": "warm"}, format="json")
    with django_assert_max_num_queries(CREATE_BUDGET + TRANSACTION) as captured:
        assert api.post(NOTES_URL, {"text": "Counted"}, format="json").status_code == 201
    assert len(_work(captured)) <= CREATE_BUDGET, _work(captured)


@pytest.mark.parametrize(
    "call",
    [
        lambda client, url: client.put(url, {"text": "Replaced"}, format="json"),
        lambda client, url: client.patch(url, {"text": "Patched"}, format="json"),
        lambda client, url: client.delete(url),
    ],
    ids=["put", "patch", "delete"],
)
def test_a_change_or_delete_costs_the_user_the_note_the_write_and_the_audit_row(
    api, user, call, django_assert_max_num_queries
):
    note = NoteFactory(owner=user)
    with django_assert_max_num_queries(DETAIL_WRITE_BUDGET + TRANSACTION) as captured:
        assert call(api, note_url(note.pk)).status_code < 300
    assert len(_work(captured)) <= DETAIL_WRITE_BUDGET, _work(captured)
