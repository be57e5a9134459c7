"""notes.services: the one way notes are written, each write a model signal inside its transaction."""

from contextlib import contextmanager

import pytest
from django.db.models.signals import post_delete, post_save

from audit.models import AuditEntry
from notes import services
from notes.models import Note
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, note_url

pytestmark = pytest.mark.django_db


@contextmanager
def _signals():
    """Collects (signal name, kwargs) of post_save and post_delete for notes inside the block.

    ``pk`` is the instance's id when the signal was sent (a deleted instance's is reset afterwards).
    """
    sent = []

    def saved(sender, **kwargs):
        sent.append(("post_save", {**kwargs, "pk": kwargs["instance"].pk}))

    def deleted(sender, **kwargs):
        sent.append(("post_delete", {**kwargs, "pk": kwargs["instance"].pk}))

    post_save.connect(saved, sender=Note, weak=False)
    post_delete.connect(deleted, sender=Note, weak=False)
    try:
        yield sent
    finally:
        post_save.disconnect(saved, sender=Note)
        post_delete.disconnect(deleted, sender=Note)


@contextmanager
def _failing(signal):
    """A receiver that fails, as the audit writer does when it cannot record."""

    def fail(sender, **kwargs):
        raise RuntimeError("recording failed")

    signal.connect(fail, sender=Note, weak=False)
    try:
        yield
    finally:
        signal.disconnect(fail, sender=Note)


def test_note_create_saves_the_note_of_the_owner(user):
    note = services.note_create(owner=user, text="Buy milk")
    assert Note.objects.get(pk=note.pk).owner == user


def test_note_create_sends_post_save_with_created(user):
    with _signals() as sent:
        note = services.note_create(owner=user, text="Buy milk")
    [(name, kwargs)] = sent
    assert (name, kwargs["instance"], kwargs["created"]) == ("post_save", note, True)
    assert kwargs["instance"].owner == user


def test_note_update_changes_the_text_and_updated_at(user, clock):
    note = NoteFactory(owner=user, text="Old")
    created = note.created_at
    later = clock.tick(60)
    services.note_update(note=note, text="New")
    note.refresh_from_db()
    assert (note.text, note.created_at, note.updated_at) == ("New", created, later)


def test_note_update_sends_post_save_without_created(user):
    note = NoteFactory(owner=user, text="Old")
    with _signals() as sent:
        services.note_update(note=note, text="New")
    [(name, kwargs)] = sent
    assert (name, kwargs["instance"], kwargs["created"]) == ("post_save", note, False)


def test_note_update_with_the_same_text_writes_and_sends_nothing(user, clock):
    note = NoteFactory(owner=user, text="Same")
    before = note.updated_at
    clock.tick(60)
    with _signals() as sent:
        services.note_update(note=note, text="Same")
    note.refresh_from_db()
    assert (sent, note.updated_at) == ([], before)


def test_note_delete_removes_the_note_and_sends_post_delete_with_its_owner(user):
    note = NoteFactory(owner=user)
    pk = note.pk
    with _signals() as sent:
        services.note_delete(note=note)
    [(name, kwargs)] = sent
    assert (name, kwargs["pk"], kwargs["instance"].owner) == ("post_delete", pk, user)
    assert not Note.objects.filter(pk=pk).exists()


def test_a_create_whose_recording_fails_is_rolled_back(user):
    with _failing(post_save), pytest.raises(RuntimeError):
        services.note_create(owner=user, text="Never stored")
    assert not Note.objects.exists()


def test_an_update_whose_recording_fails_is_rolled_back(user):
    note = NoteFactory(owner=user, text="Kept")
    with _failing(post_save), pytest.raises(RuntimeError):
        services.note_update(note=note, text="Never stored")
    note.refresh_from_db()
    assert note.text == "Kept"


def test_a_delete_whose_recording_fails_is_rolled_back(user):
    note = NoteFactory(owner=user)
    with _failing(post_delete), pytest.raises(RuntimeError):
        services.note_delete(note=note)
    assert Note.objects.filter(pk=note.pk).exists()


def test_the_api_writes_through_the_services(user_client, monkeypatch):
    calls = []
    for name in ("note_create", "note_update", "note_delete"):
        original = getattr(services, name)
        monkeypatch.setattr(
            services, name, lambda original=original, name=name, **kwargs: calls.append(name) or original(**kwargs)
        )
    pk = user_client.post(NOTES_URL, {"text": "One"}, format="json").json()["id"]
    user_client.put(note_url(pk), {"text": "Two"}, format="json")
    user_client.patch(note_url(pk), {"text": "Three"}, format="json")
    user_client.delete(note_url(pk))
    assert calls == ["note_create", "note_update", "note_update", "note_delete"]


def test_each_api_write_is_in_the_audit_trail_with_the_owner_as_actor_and_no_text(user_client, user):
    pk = user_client.post(NOTES_URL, {"text": "Secret plan"}, format="json").json()["id"]
    user_client.patch(note_url(pk), {"text": "Secret plan v2"}, format="json")
    user_client.delete(note_url(pk))
    rows = AuditEntry.objects.filter(target_type="note").order_by("id")
    assert [(row.action, row.actor_id, row.target_id) for row in rows] == [
        ("note_created", user.pk, pk),
        ("note_updated", user.pk, pk),
        ("note_deleted", user.pk, pk),
    ]
    assert not any("Secret" in str(value) for row in rows for value in row.__dict__.values())


def test_a_new_note_was_updated_when_it_was_created(user):
    note = services.note_create(owner=user, text="Fresh")
    note.refresh_from_db()
    assert note.updated_at == note.created_at
