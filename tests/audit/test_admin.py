"""The audit trail in the admin site: readable, and changeable by nobody, superusers included."""

import pytest
from django.urls import reverse

from audit.models import Action, AuditEntry
from audit.services import audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:audit_auditentry_changelist")


@pytest.fixture
def entries(user, other_user, request_context):
    rows = [audit_record(action=Action.LOGOUT, actor=user, target=user)]
    request_context.ip, request_context.request_id = "198.51.100.1", "req-bob"
    rows.append(audit_record(action=Action.PASSWORD_CHANGED, actor=other_user, target=other_user))
    return rows


@pytest.fixture
def admin_client(client):
    """A superuser's session: even they may only read."""
    client.force_login(UserFactory(username="super", is_staff=True, is_superuser=True))
    return client


def _listed_ids(response) -> list[int]:
    return [entry.pk for entry in response.context["cl"].result_list]


def test_the_changelist_shows_time_action_actor_target_ip_and_request_id(admin_client, entries, user):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert list(response.context["cl"].list_display) == [
        "created_at",
        "action",
        "actor_username",
        "target_display",
        "ip",
        "request_id",
    ]
    content = response.content.decode()
    assert f"user #{user.pk}" in content
    assert "198.51.100.1" in content
    assert "req-bob" in content


def test_the_changelist_filters_by_action(admin_client, entries):
    response = admin_client.get(CHANGELIST, {"action__exact": "password_changed"})
    assert _listed_ids(response) == [entries[1].pk]


def test_logging_in_to_the_admin_is_recorded(admin_client):
    entry = AuditEntry.objects.get(action="login_success")
    assert entry.actor_username == "super"


def test_the_changelist_drills_down_by_date(admin_client, entries):
    created = entries[0].created_at
    response = admin_client.get(
        CHANGELIST,
        {"created_at__year": created.year, "created_at__month": created.month, "created_at__day": created.day},
    )
    assert {e.pk for e in entries} <= set(_listed_ids(response))
    assert response.context["cl"].date_hierarchy == "created_at"


@pytest.mark.parametrize(
    ("term", "expected"), [("bo", [1]), ("198.51.100.1", [1]), ("req-bob", [1]), ("alice", [0]), ("nobody", [])]
)
def test_the_changelist_searches_username_ip_and_request_id(admin_client, entries, term, expected):
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    assert _listed_ids(response) == [entries[i].pk for i in expected]


def test_the_change_view_is_read_only_for_a_superuser(admin_client, entries):
    url = reverse("admin:audit_auditentry_change", args=[entries[0].pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b'name="_save"' not in response.content
    assert entries[0].hash.encode() in response.content
    assert admin_client.post(url, {"detail": "rewritten"}).status_code == 403
    assert AuditEntry.objects.get(pk=entries[0].pk).detail == ""


def test_nobody_can_add_an_entry_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:audit_auditentry_add")).status_code == 403


def test_nobody_can_delete_an_entry_in_the_admin(admin_client, entries):
    url = reverse("admin:audit_auditentry_delete", args=[entries[0].pk])
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entries[0].pk).exists()


def test_the_changelist_offers_no_bulk_delete(admin_client, entries):
    response = admin_client.get(CHANGELIST)
    assert response.context["action_form"] is None
    before = AuditEntry.objects.count()
    admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [e.pk for e in entries], "post": "yes"}
    )
    assert AuditEntry.objects.count() == before


def test_staff_without_the_view_permission_cannot_read_the_trail(client, entries):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(CHANGELIST).status_code == 403
