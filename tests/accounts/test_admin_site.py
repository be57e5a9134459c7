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


# ---------------------------------------------------------------- admins who are not superusers


@pytest.fixture
def member(db):
    """An admin in the Administrators group (not a superuser), as promote_user makes one."""
    from accounts.services import user_promote

    return user_promote(actor=None, user=UserFactory(username="member"))


@pytest.fixture
def member_panel(member):
    from django.test import Client

    client = Client()
    client.force_login(member)
    return client


def _change(client, user, **overrides):
    return client.post(f"/admin/accounts/user/{user.pk}/change/", _change_form_data(user, **overrides))


def _powerful_group():
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Powerful")
    group.permissions.add(Permission.objects.get(codename="change_group"))
    return group


def _rights(user):
    user = type(user).objects.get(pk=user.pk)
    return (
        user.is_staff,
        user.is_superuser,
        set(user.groups.values_list("name", flat=True)),
        user.user_permissions.count(),
    )


def test_a_group_member_posting_is_superuser_on_their_own_form_changes_nothing_and_sees_an_error(member_panel, member):
    before = _rights(member)
    response = _change(member_panel, member, is_staff="on", is_superuser="on")
    assert response.status_code == 200
    assert "Only a superuser can change is_superuser" in response.content.decode()
    assert _rights(member) == before == (True, False, {"Administrators"}, 0)
    assert not AuditEntry.objects.filter(actor_username="member").exclude(action="login_success").exists()


def test_a_group_member_posting_groups_and_permissions_on_their_own_form_changes_nothing(member_panel, member):
    from django.contrib.auth.models import Permission

    group = _powerful_group()
    permission = Permission.objects.get(codename="delete_user")
    response = _change(
        member_panel,
        member,
        is_staff="on",
        groups=[group.pk],
        user_permissions=[permission.pk],
        email="new@example.com",
    )
    assert response.status_code == 200
    assert "Only a superuser can change groups, user_permissions" in response.content.decode()
    assert _rights(member) == (True, False, {"Administrators"}, 0)
    assert type(member).objects.get(pk=member.pk).email == member.email


def test_a_group_member_cannot_make_another_user_superuser(member_panel, user):
    response = _change(member_panel, user, is_superuser="on")
    assert response.status_code == 200
    assert "Only a superuser can change is_superuser" in response.content.decode()
    assert _rights(user) == (False, False, set(), 0)


def test_a_group_member_sees_superuser_groups_and_permissions_read_only(member_panel, member):
    page = member_panel.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()
    assert 'name="email"' in page
    for name in ("is_superuser", "groups", "user_permissions"):
        assert f'name="{name}"' not in page


def test_a_group_member_still_edits_an_ordinary_user(member_panel, user):
    response = _change(member_panel, user, email="fresh@example.com")
    assert response.status_code == 302
    assert type(user).objects.get(pk=user.pk).email == "fresh@example.com"
    assert AuditEntry.objects.get(action="user_updated").actor_username == "member"


def test_a_group_member_sees_a_superuser_read_only_and_cannot_post_their_form(member_panel, superuser):
    page = member_panel.get(f"/admin/accounts/user/{superuser.pk}/change/")
    assert page.status_code == 200
    assert 'name="email"' not in page.content.decode()
    response = _change(member_panel, superuser, is_staff="on", is_superuser="on", email="taken@example.com")
    assert response.status_code == 403
    assert type(superuser).objects.get(pk=superuser.pk).email == superuser.email


def test_a_group_member_cannot_set_a_superusers_password(member_panel, superuser):
    new = "an entirely new passphrase 42"
    url = f"/admin/accounts/user/{superuser.pk}/password/"
    assert member_panel.get(url).status_code == 403
    response = member_panel.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.check_password(DEFAULT_PASSWORD)
    assert not AuditEntry.objects.filter(action="password_changed").exists()


def test_the_password_view_asks_the_service_not_only_has_change_permission(member_panel, user, monkeypatch):
    # Were has_change_permission ever to let it through, the service still refuses.
    from accounts import services
    from accounts.admin import UserAdmin

    monkeypatch.setattr(UserAdmin, "has_change_permission", lambda self, request, obj=None: True)
    monkeypatch.setattr(services, "user_can_manage", lambda *, actor, user: False)
    new = "an entirely new passphrase 42"
    response = member_panel.post(
        f"/admin/accounts/user/{user.pk}/password/", {"password1": new, "password2": new, "usable_password": "true"}
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_group_member_still_sets_an_ordinary_users_password(member_panel, user):
    new = "an entirely new passphrase 42"
    response = member_panel.post(
        f"/admin/accounts/user/{user.pk}/password/", {"password1": new, "password2": new, "usable_password": "true"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


@pytest.mark.parametrize("action", ["demote", "deactivate", "logout_everywhere"])
def test_a_group_members_action_on_a_superuser_is_refused_with_an_error(member_panel, superuser, action):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    RefreshToken.for_user(superuser)
    response = member_panel.post(CHANGELIST, {"action": action, "_selected_action": [superuser.pk]}, follow=True)
    assert "Only a superuser can change the superuser root" in response.content.decode()
    assert _rights(superuser)[:2] == (True, True)
    assert type(superuser).objects.get(pk=superuser.pk).is_active
    assert OutstandingToken.objects.filter(user=superuser, blacklistedtoken__isnull=True).count() == 1


def test_a_group_member_given_delete_rights_still_cannot_delete_a_superuser(member, member_panel, superuser):
    from django.contrib.auth.models import Permission

    member.user_permissions.add(Permission.objects.get(codename="delete_user"))
    assert member_panel.post(f"/admin/accounts/user/{superuser.pk}/delete/", {"post": "yes"}).status_code == 403
    response = member_panel.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [superuser.pk], "post": "yes"}
    )
    assert response.status_code == 403
    assert type(superuser).objects.filter(pk=superuser.pk).exists()


def test_a_group_member_cannot_change_any_group(member_panel):
    from accounts.services import administrators_group

    url = f"/admin/auth/group/{administrators_group().pk}/change/"
    assert member_panel.get(url).status_code == 403
    assert member_panel.post(url, {"name": "Administrators", "permissions": []}).status_code == 403


def test_a_staff_user_who_may_only_view_users_gets_no_actions(user):
    from django.contrib.auth.models import Permission
    from django.test import Client

    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(user)
    other = UserFactory(username="other")
    client.post(CHANGELIST, {"action": "promote", "_selected_action": [other.pk]})
    assert not type(other).objects.get(pk=other.pk).is_staff


# ---------------------------------------------------------------- superusers


def test_a_superuser_sets_groups_and_permissions_on_the_form(panel, user):
    from django.contrib.auth.models import Permission

    group = _powerful_group()
    permission = Permission.objects.get(codename="view_note")
    response = _change(panel, user, groups=[group.pk], user_permissions=[permission.pk])
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _rights(user) == (False, False, {"Powerful"}, 1)
    assert AuditEntry.objects.get(action="user_updated").detail == "groups, user_permissions"


def test_a_superuser_ticking_is_superuser_promotes_through_the_service(panel, user):
    response = _change(panel, user, is_superuser="on")
    assert response.status_code == 302
    assert _rights(user) == (True, True, {"Administrators"}, 0)
    assert AuditEntry.objects.get(action="user_promoted").detail == "superuser"


def test_the_last_superuser_cannot_untick_their_own_superuser_status(panel, superuser):
    response = _change(panel, superuser, is_staff="on", is_superuser=None)
    assert response.status_code == 200
    assert "root is the last superuser" in response.content.decode()
    assert _rights(superuser)[:2] == (True, True)


def test_unticking_your_own_active_flag_is_refused_on_the_form(panel, superuser):
    UserFactory(is_staff=True, is_superuser=True)
    response = _change(panel, superuser, is_staff="on", is_superuser="on", is_active=None)
    assert response.status_code == 200
    assert "You cannot deactivate yourself" in response.content.decode()
    assert type(superuser).objects.get(pk=superuser.pk).is_active


def test_log_out_everywhere_revokes_the_users_tokens_audited_with_the_admin_as_actor(panel, user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    RefreshToken.for_user(user)
    RefreshToken.for_user(user)
    response = panel.post(CHANGELIST, {"action": "logout_everywhere", "_selected_action": [user.pk]}, follow=True)
    assert "alice is logged out everywhere" in response.content.decode().lower()
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    entry = AuditEntry.objects.get(action="logout")
    assert (entry.actor_username, int(entry.target_id)) == ("root", user.pk)


def test_a_group_member_logs_an_ordinary_user_out_everywhere(member_panel, user):
    member_panel.post(CHANGELIST, {"action": "logout_everywhere", "_selected_action": [user.pk]})
    assert AuditEntry.objects.get(action="logout").actor_username == "member"
