"""The list builds its JSON from ``values()`` rows; it must be exactly the serializer's."""

import json

import pytest

from notes.models import Note
from notes.serializers import NoteSerializer
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, bearer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("ordering", ["-created_at", "updated_at"])
def test_the_lean_list_shows_each_note_exactly_as_the_note_serializer_does(user, ordering):
    NoteFactory.create_batch(5, owner=user, text="Ünïcode 😀 and\ttabs")
    listed = bearer(user).get(f"{NOTES_URL}?ordering={ordering}").json()["results"]
    notes = Note.objects.filter(pk__in=[row["id"] for row in listed]).order_by(ordering, "-id")
    expected = json.loads(json.dumps(NoteSerializer(notes, many=True).data))
    assert sorted(listed, key=lambda row: row["id"]) == sorted(expected, key=lambda row: row["id"])
    assert all(row["created_at"].endswith("Z") for row in listed)
