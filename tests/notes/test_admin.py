"""Notes in the admin site: read-only, and only for superusers and staff granted "Can view note"."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notes.models import Note
from tests.factories import AdminFactory, NoteFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notes_note_changelist")
ADD = reverse("admin:notes_note_add")


def _change(note: Note) -> str:
    return reverse("admin:notes_note_change", args=[note.pk])


def _delete(note: Note) -> str:
    return reverse("admin:notes_note_delete", args=[note.pk])


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="super", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def staff_client(client):
    """Staff without any notes permission: an admin who reads the audit trail, not users' text."""
    client.force_login(AdminFactory(username="staff"))
    return client


@pytest.fixture
def granted_client(client):
    """Staff explicitly granted "Can view note"."""
    staff = AdminFactory(username="granted")
    staff.user_permissions.add(Permission.objects.get(codename="view_note", content_type__app_label="notes"))
    client.force_login(staff)
    return client


@pytest.fixture
def notes(user, other_user):
    return [
        NoteFactory(owner=user, text="Alice's short note"),
        NoteFactory(owner=other_user, text="Bob's very long note " + "blah " * 100),
    ]


def _listed(response) -> list[Note]:
    return list(response.context["cl"].result_list)


def test_the_list_shows_owner_creation_time_and_a_short_preview(superuser_client, notes):
    response = superuser_client.get(CHANGELIST)
    assert response.status_code == 200
    assert list(response.context["cl"].list_display) == ["action_checkbox", "id", "owner", "created_at", "preview"]
    page = response.content.decode()
    assert "Alice&#x27;s short note" in page
    assert "Bob&#x27;s very long note blah" in page
    assert "blah " * 20 not in page


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CHANGELIST).status_code == 200
    return len(captured.captured_queries)


def test_the_list_costs_the_same_queries_for_two_notes_and_for_twelve(superuser_client, notes):
    superuser_client.get(CHANGELIST)  # warm the session and content types
    two = _queries(superuser_client)
    NoteFactory.create_batch(10)
    assert _queries(superuser_client) == two


def test_the_list_can_be_searched_by_owner_username(superuser_client, notes, user):
    response = superuser_client.get(CHANGELIST, {"q": "ALI"})
    assert [note.owner for note in _listed(response)] == [user]


def test_staff_without_the_view_permission_cannot_see_notes(staff_client, notes):
    assert staff_client.get(CHANGELIST).status_code == 403
    assert staff_client.get(_change(notes[0])).status_code == 403
    assert "notes/note" not in staff_client.get(reverse("admin:index")).content.decode()


def test_staff_granted_the_view_permission_can_read_notes(granted_client, notes):
    assert len(_listed(granted_client.get(CHANGELIST))) == 2
    response = granted_client.get(_change(notes[0]))
    assert response.status_code == 200
    assert "Alice&#x27;s short note" in response.content.decode()


def test_nobody_adds_or_edits_a_note_in_the_admin_superusers_included(superuser_client, notes):
    assert superuser_client.get(ADD).status_code == 403
    response = superuser_client.post(_change(notes[0]), {"text": "Rewritten by an admin", "owner": notes[0].owner_id})
    assert response.status_code == 403
    notes[0].refresh_from_db()
    assert notes[0].text == "Alice's short note"


def test_the_change_page_is_read_only(superuser_client, notes):
    page = superuser_client.get(_change(notes[0])).content.decode()
    assert 'name="_save"' not in page
    assert "<textarea" not in page


def test_staff_granted_only_viewing_cannot_delete(granted_client, notes):
    assert granted_client.post(_delete(notes[0]), {"post": "yes"}).status_code == 403
    assert Note.objects.filter(pk=notes[0].pk).exists()


def test_a_deletion_in_the_admin_goes_through_the_service_and_sends_post_delete(superuser_client, notes):
    deleted = []
    post_delete.connect(receiver := lambda sender, instance, **kw: deleted.append(instance.text), sender=Note)
    try:
        response = superuser_client.post(_delete(notes[0]), {"post": "yes"})
    finally:
        post_delete.disconnect(receiver, sender=Note)
    assert response.status_code == 302
    assert deleted == ["Alice's short note"]
    assert not Note.objects.filter(pk=notes[0].pk).exists()


def test_deleting_selected_notes_deletes_them_one_by_one(superuser_client, notes):
    deleted = []
    post_delete.connect(receiver := lambda sender, instance, **kw: deleted.append(instance.pk), sender=Note)
    try:
        superuser_client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [note.pk for note in notes], "post": "yes"},
        )
    finally:
        post_delete.disconnect(receiver, sender=Note)
    assert sorted(deleted) == sorted(note.pk for note in notes)
    assert not Note.objects.exists()


def test_a_superuser_can_delete_a_user_with_notes_in_the_admin(superuser_client, notes, user):
    response = superuser_client.post(reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Note.objects.filter(owner_id=user.pk).exists()
    assert Note.objects.filter(pk=notes[1].pk).exists()
