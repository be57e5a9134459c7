"""CRUD on /api/notes/: the owner's notes, and what the body may and may not set."""

import pytest
from django.utils import timezone

from notes.models import Note
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, bearer, note_url

pytestmark = pytest.mark.django_db


def test_creating_a_note_returns_it_with_201(user_client, user):
    response = user_client.post(NOTES_URL, {"text": "Buy milk"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "text", "created_at", "updated_at"}
    note = Note.objects.get(pk=body["id"])
    assert (note.owner, note.text, body["text"]) == (user, "Buy milk", "Buy milk")


def test_a_bearer_token_is_enough_to_create_and_read_a_note(user):
    client = bearer(user)
    created = client.post(NOTES_URL, {"text": "With a token"}, format="json").json()
    assert client.get(note_url(created["id"])).json() == created


def test_retrieving_a_note_returns_its_fields(user_client, user):
    note = NoteFactory(owner=user, text="Remember")
    assert user_client.get(note_url(note.pk)).json() == {
        "id": note.pk,
        "text": "Remember",
        "created_at": note.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": note.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_put_replaces_the_text_and_moves_updated_at(user_client, user):
    note = NoteFactory(owner=user, text="Old")
    response = user_client.put(note_url(note.pk), {"text": "New"}, format="json")
    assert response.status_code == 200
    note.refresh_from_db()
    assert (response.json()["text"], note.text) == ("New", "New")
    assert note.updated_at > note.created_at


def test_put_without_text_is_a_400(user_client, user):
    note = NoteFactory(owner=user, text="Kept")
    response = user_client.put(note_url(note.pk), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"text": ["This field is required."]}


def test_patch_changes_the_text(user_client, user):
    note = NoteFactory(owner=user, text="Old")
    assert user_client.patch(note_url(note.pk), {"text": " New "}, format="json").json()["text"] == "New"
    note.refresh_from_db()
    assert note.text == "New"


def test_patch_without_text_changes_nothing(user_client, user):
    note = NoteFactory(owner=user, text="Kept")
    before = note.updated_at
    response = user_client.patch(note_url(note.pk), {}, format="json")
    assert response.status_code == 200
    note.refresh_from_db()
    assert (note.text, note.updated_at) == ("Kept", before)


def test_delete_removes_the_note_with_204(user_client, user):
    note = NoteFactory(owner=user)
    response = user_client.delete(note_url(note.pk))
    assert response.status_code == 204
    assert not Note.objects.filter(pk=note.pk).exists()


def test_a_missing_note_is_404(user_client):
    response = user_client.get(note_url(987654))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_id_beyond_any_integer_column_is_404_not_500(user_client):
    assert user_client.get(note_url(10**30)).status_code == 404


def test_an_id_that_is_not_a_number_is_a_json_404(user_client):
    response = user_client.get(f"{NOTES_URL}abc/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# ---------------------------------------------------------------- what the body cannot set


def test_an_owner_in_the_body_is_ignored(user_client, user, other_user):
    response = user_client.post(NOTES_URL, {"text": "Mine", "owner": other_user.pk}, format="json")
    assert Note.objects.get(pk=response.json()["id"]).owner == user


def test_an_id_in_the_body_is_ignored(user_client):
    taken = NoteFactory()
    response = user_client.post(NOTES_URL, {"text": "Mine", "id": taken.pk}, format="json")
    assert response.status_code == 201
    assert response.json()["id"] != taken.pk
    taken.refresh_from_db()
    assert taken.text != "Mine"


def test_timestamps_in_the_body_are_ignored(user_client):
    response = user_client.post(
        NOTES_URL,
        {"text": "Now", "created_at": "2000-01-01T00:00:00Z", "updated_at": "2000-01-01T00:00:00Z"},
        format="json",
    )
    note = Note.objects.get(pk=response.json()["id"])
    assert note.created_at > timezone.now() - timezone.timedelta(minutes=1)
    assert note.updated_at > timezone.now() - timezone.timedelta(minutes=1)


def test_an_update_cannot_move_a_note_to_another_owner_or_id(user_client, user, other_user):
    note = NoteFactory(owner=user)
    user_client.put(note_url(note.pk), {"text": "Still mine", "owner": other_user.pk, "id": 1}, format="json")
    note.refresh_from_db()
    assert (note.owner, note.text) == (user, "Still mine")


# ---------------------------------------------------------------- formats


def test_a_note_can_be_created_from_a_form_body(user_client, user):
    response = user_client.post(NOTES_URL, {"text": "From a form"}, format="multipart")
    assert response.status_code == 201
    assert Note.objects.get(owner=user).text == "From a form"


def test_an_unparsable_json_body_is_a_400(user_client):
    response = user_client.post(NOTES_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
