"""Who may do what with a note: anonymous 401, owner 2xx, anyone else 404 and the note untouched."""

import pytest
from rest_framework.test import APIClient

from notes.models import Note
from notes.views import NoteViewSet
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, bearer, note_url

pytestmark = pytest.mark.django_db

DETAIL_CALLS = {
    "retrieve": lambda client, url: client.get(url),
    "update": lambda client, url: client.put(url, {"text": "Changed"}, format="json"),
    "partial_update": lambda client, url: client.patch(url, {"text": "Changed"}, format="json"),
    "destroy": lambda client, url: client.delete(url),
}
OWNER_STATUS = {"retrieve": 200, "update": 200, "partial_update": 200, "destroy": 204}


@pytest.fixture
def note(user):
    return NoteFactory(owner=user, text="Private")


def _unchanged(note: Note) -> bool:
    stored = Note.objects.filter(pk=note.pk).first()
    return stored is not None and (stored.owner_id, stored.text, stored.updated_at) == (
        note.owner_id,
        note.text,
        note.updated_at,
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda client, pk: client.get(NOTES_URL),
        lambda client, pk: client.post(NOTES_URL, {"text": "Sneaky"}, format="json"),
        *(lambda client, pk, call=call: call(client, note_url(pk)) for call in DETAIL_CALLS.values()),
    ],
    ids=["list", "create", *DETAIL_CALLS],
)
def test_anonymous_requests_are_401_with_a_bearer_challenge(note, call):
    response = call(APIClient(), note.pk)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _unchanged(note)
    assert Note.objects.count() == 1


def test_an_invalid_token_is_401(note):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get(NOTES_URL).status_code == 401


@pytest.mark.parametrize("action", DETAIL_CALLS)
def test_the_owner_may_do_everything_with_a_note(user, note, action):
    response = DETAIL_CALLS[action](bearer(user), note_url(note.pk))
    assert response.status_code == OWNER_STATUS[action]


@pytest.mark.parametrize("action", DETAIL_CALLS)
def test_another_users_note_is_404_and_left_unchanged(other_user, note, action):
    response = DETAIL_CALLS[action](bearer(other_user), note_url(note.pk))
    assert response.status_code == 404
    assert _unchanged(note)


@pytest.mark.parametrize("action", DETAIL_CALLS)
def test_an_admin_gets_404_for_another_users_note_too(admin_user, note, action):
    admin_user.is_superuser = True
    admin_user.save()
    response = DETAIL_CALLS[action](bearer(admin_user), note_url(note.pk))
    assert response.status_code == 404
    assert _unchanged(note)


def test_another_users_note_looks_exactly_like_a_missing_one(other_user, note):
    client = bearer(other_user)
    foreign = client.get(note_url(note.pk))
    missing = client.get(note_url(note.pk + 1000))
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())


def test_the_list_holds_only_the_callers_notes(user, other_user, note):
    NoteFactory(owner=other_user, text="Bob's")
    assert [row["text"] for row in bearer(user).get(NOTES_URL).json()["results"]] == ["Private"]
    assert [row["text"] for row in bearer(other_user).get(NOTES_URL).json()["results"]] == ["Bob's"]


@pytest.mark.parametrize("action", DETAIL_CALLS)
def test_is_owner_still_answers_404_when_the_queryset_lets_another_users_note_through(
    monkeypatch, other_user, note, action
):
    monkeypatch.setattr(NoteViewSet, "get_queryset", lambda view: Note.objects.all())
    response = DETAIL_CALLS[action](bearer(other_user), note_url(note.pk))
    assert response.status_code == 404
    assert _unchanged(note)
