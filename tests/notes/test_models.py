"""The notes table: the database's own length check, the owner cascade, and the list's indexes."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from notes.models import TEXT_MAX_LENGTH, Note
from tests.factories import NoteFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_text_over_ten_thousand_characters(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        Note(owner=user, text="x" * (TEXT_MAX_LENGTH + 1)).save()


def test_the_database_counts_characters_not_bytes(user):
    Note(owner=user, text="\U0001f600" * TEXT_MAX_LENGTH).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Note(owner=user, text="\U0001f600" * (TEXT_MAX_LENGTH + 1)).save()


def test_a_users_notes_go_with_the_user(user, other_user):
    NoteFactory.create_batch(2, owner=user)
    kept = NoteFactory(owner=other_user)
    user.delete()
    assert list(Note.objects.all()) == [kept]


# ---------------------------------------------------------------- PostgreSQL plans


@pytest.fixture
def many_notes(user):
    """Enough notes of enough users that the planner would rather scan the table without an index.

    Inserted in bulk: test data, no audit rows wanted.
    """
    owners = [user, *UserFactory.create_batch(39)]
    Note.objects.bulk_create(
        Note(owner=owner, text=f"note {index} of {owner.username}") for owner in owners for index in range(150)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notes_note")


def _plans(client, ordering: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/api/notes/", {"ordering": ordering}).json()
        client.get(page["next"])
        client.get(client.get(page["next"]).json()["previous"])
    plans = []
    for query in queries.captured_queries:
        if query["sql"].startswith("SELECT") and "notes_note" in query["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert len(plans) == 4
    return plans


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        ("-created_at", "notes_owner_created_idx"),
        ("created_at", "notes_owner_created_idx"),
        ("-updated_at", "notes_owner_updated_idx"),
        ("updated_at", "notes_owner_updated_idx"),
    ],
)
def test_every_page_of_every_ordering_is_an_index_range_scan_without_a_sort(user_client, many_notes, ordering, index):
    for plan in _plans(user_client, ordering):
        assert index in plan, plan
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan
