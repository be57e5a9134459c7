"""The create validates with ``NoteTextSerializer`` and answers ``note_document``: it must be
exactly what ``NoteSerializer`` would say, for good bodies and bad ones."""

import json

import pytest

from notes.models import Note
from notes.serializers import NoteSerializer
from tests.notes.conftest import NOTES_URL, bearer

pytestmark = pytest.mark.django_db


def test_a_created_note_is_shown_exactly_as_the_note_serializer_shows_it(user):
    response = bearer(user).post(NOTES_URL, {"text": "  Ünïcode 😀 and\ttabs  "}, format="json")
    assert response.status_code == 201
    note = Note.objects.get(pk=response.json()["id"])
    assert response.json() == json.loads(json.dumps(NoteSerializer(note).data))
    assert note.text == "Ünïcode 😀 and\ttabs"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "   "},
        {"text": None},
        {"text": 12},
        {"text": ["a"]},
        {"text": "x" * 10_001},
        {"text": "bell \x07"},
        {"text": "nul \x00"},
        [{"text": "a list"}],
        "just a string",
    ],
    ids=lambda body: repr(body)[:24],
)
def test_a_refused_body_gets_the_note_serializers_own_errors(user, body):
    response = bearer(user).post(NOTES_URL, body, format="json")
    serializer = NoteSerializer(data=body)
    assert not serializer.is_valid()
    assert response.status_code == 400
    assert response.json() == json.loads(json.dumps(serializer.errors))
    assert not Note.objects.exists()
