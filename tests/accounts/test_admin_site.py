"""The users' pages of the admin panel and its login."""

import pytest

from audit.models import AuditEntry
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def panel(client, superuser):
    client.force_login(superuser)
    return client


def test_changelist_shows_note_counts_in_bounded_queries(panel, django_assert_max_num_queries):
    for _ in range(15):
        UserFactory()
    with django_assert_max_num_queries(12):
        response = panel.get(CHANGELIST)
    assert response.status_code == 200
    assert "column-note_count" in response.content.decode()


def test_promote_action_calls_the_service_and_is_audited(panel, user):
    panel.post(CHANGELIST, {"action": "promote", "_selected_action": [user.pk]})
    user.refresh_from_db()
    assert user.is_staff
    assert AuditEntry.objects.get(action="user_promoted").actor_username == "root"


def test_deactivate_action_refuses_yourself(panel, superuser):
    response = panel.post(CHANGELIST, {"action": "deactivate", "_selected_action": [superuser.pk]}, follow=True)
    superuser.refresh_from_db()
    assert superuser.is_active
    assert "cannot deactivate yourself" in response.content.decode()


def test_delete_is_audited_and_keeps_rows(panel, user):
    panel.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})
    assert not type(user).objects.filter(pk=user.pk).exists()
    assert AuditEntry.objects.filter(action="user_deleted", target_id=user.pk).exists()


def test_admin_login_is_locked_out_like_the_api(client, user, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    user.is_staff = True
    user.save()
    response = client.post("/admin/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert "Too many failed logins" in response.content.decode()
    assert AuditEntry.objects.filter(action="login_throttled").exists()


def test_non_staff_user_is_refused_at_admin_login(client, user):
    response = client.post("/admin/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def _change_form_data(user, **overrides):
    data = {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_ticking_staff_status_in_the_form_promotes_through_the_service(panel, user):
    response = panel.post(f"/admin/accounts/user/{user.pk}/change/", _change_form_data(user, is_staff="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_staff
    assert user.groups.filter(name="Administrators").exists()
    assert AuditEntry.objects.filter(action="user_promoted", actor_username="root").exists()


def test_other_edits_in_the_form_are_audited_as_user_updated(panel, user):
    panel.post(f"/admin/accounts/user/{user.pk}/change/", _change_form_data(user, email="new@example.com"))
    entry = AuditEntry.objects.get(action="user_updated")
    assert "email" in entry.detail


def test_setting_a_password_in_the_admin_revokes_refresh_tokens(panel, user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.tokens import RefreshToken

    RefreshToken.for_user(user)
    new = "an entirely new passphrase 42"
    response = panel.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    assert AuditEntry.objects.filter(action="password_changed", actor_username="root").exists()
