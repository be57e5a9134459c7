"""``notes.selectors.note_page``: the list's precompiled query returns what the ORM would."""

from datetime import timedelta

import pytest
from django.db.models import Q

from api.pagination import after_position
from notes import selectors
from notes.models import Note
from notes.serializers import NOTE_FIELDS
from tests.factories import NoteFactory

pytestmark = pytest.mark.django_db

ORDERINGS = [("-created_at", "-id"), ("created_at", "id"), ("-updated_at", "-id"), ("updated_at", "id")]


def orm_page(owner, ordering, after, search, limit):
    notes = Note.objects.filter(owner=owner)
    if search is not None:
        notes = notes.filter(text__icontains=search)
    if after is not None:
        notes = notes.filter(*after_position(ordering, after))
    return list(notes.order_by(*ordering).values(*NOTE_FIELDS)[:limit])


@pytest.fixture
def notes(user, other_user, clock):
    """Notes of two users, some sharing a time (ties are broken by id)."""
    made = []
    for number in range(12):
        clock.now += timedelta(seconds=number % 3)  # pairs and triples of equal times
        made.append(NoteFactory(owner=user, text=f"Note {number} of 100% and a_b and back\\slash"))
    NoteFactory.create_batch(3, owner=other_user, text="someone else's 100%")
    return made


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("search", [None, "", "100%", "a_b", "BACK\\SLASH", "%", "_", "nowhere"])
def test_a_first_page_is_what_the_orm_returns(user, notes, ordering, search):
    page = selectors.note_page(
        owner_id=user.pk, fields=NOTE_FIELDS, ordering=ordering, after=None, search=search, limit=5
    )
    assert page == orm_page(user, ordering, None, search, 5)


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("index", [0, 4, 5, 11])
def test_a_page_after_a_position_is_what_the_orm_returns(user, notes, ordering, index):
    field = ordering[0].lstrip("-")
    note = notes[index]
    after = (getattr(note, field), note.pk)
    page = selectors.note_page(
        owner_id=user.pk, fields=NOTE_FIELDS, ordering=ordering, after=after, search="note", limit=4
    )
    assert page == orm_page(user, ordering, after, "note", 4)


def test_someone_elses_notes_never_appear(user, other_user, notes):
    page = selectors.note_page(
        owner_id=user.pk, fields=NOTE_FIELDS, ordering=ORDERINGS[0], after=None, search="someone", limit=20
    )
    assert page == []
    assert not Note.objects.filter(Q(owner=user) & Q(text__icontains="someone")).exists()


def test_a_page_is_one_query(user, notes, django_assert_num_queries):
    selectors.note_page(owner_id=user.pk, fields=NOTE_FIELDS, ordering=ORDERINGS[0], after=None, search=None, limit=5)
    with django_assert_num_queries(1):
        selectors.note_page(
            owner_id=user.pk, fields=NOTE_FIELDS, ordering=ORDERINGS[0], after=None, search=None, limit=5
        )
