"""A note write and its audit row commit together, with ATOMIC_REQUESTS off (the default) or on."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from audit import receivers
from audit.models import AuditEntry
from notes.models import Note
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, note_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=[False, True], ids=["atomic-requests-off", "atomic-requests-on"])
def atomic_requests(request, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", request.param)
    return request.param


@pytest.fixture
def alice(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.fixture
def audit_fails(monkeypatch):
    """From here on the audit writer fails, as when its insert is refused."""

    def fail(**kwargs):
        raise RuntimeError("the audit trail cannot be written")

    monkeypatch.setattr(receivers, "audit_record", fail)


def test_every_write_is_recorded(atomic_requests, alice, user):
    pk = alice.post(NOTES_URL, {"text": "One"}, format="json").json()["id"]
    assert alice.patch(note_url(pk), {"text": "Two"}, format="json").status_code == 200
    assert alice.delete(note_url(pk)).status_code == 204
    actions = AuditEntry.objects.filter(target_type="note", target_id=pk).order_by("id")
    assert [entry.action for entry in actions] == ["note_created", "note_updated", "note_deleted"]


def test_a_create_that_cannot_be_recorded_is_a_json_500_and_stores_nothing(atomic_requests, alice, audit_fails):
    response = alice.post(NOTES_URL, {"text": "Unrecorded"}, format="json")
    assert response.status_code == 500
    assert "detail" in response.json()
    assert not Note.objects.exists()


def test_an_update_that_cannot_be_recorded_keeps_the_old_text(atomic_requests, alice, user, request):
    note = NoteFactory(owner=user, text="Recorded")
    request.getfixturevalue("audit_fails")
    assert alice.put(note_url(note.pk), {"text": "Unrecorded"}, format="json").status_code == 500
    note.refresh_from_db()
    assert note.text == "Recorded"


def test_a_delete_that_cannot_be_recorded_keeps_the_note(atomic_requests, alice, user, request):
    note = NoteFactory(owner=user)
    request.getfixturevalue("audit_fails")
    assert alice.delete(note_url(note.pk)).status_code == 500
    assert Note.objects.filter(pk=note.pk).exists()
