"""Who may act on whom (accounts.services): superusers are changed by superusers only,
rights beyond the Administrators group are granted by superusers only, and nobody
removes the last active superuser. Every entry point asks these services; the
admin site, API and CLI tests check that they do."""

import threading
import time

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import connections
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import signals
from accounts.models import User
from accounts.services import (
    ADMINISTRATORS_GROUP,
    AdminRightsConflict,
    AdminRightsForbidden,
    user_admin_check,
    user_admin_set_password,
    user_admin_update,
    user_can_grant_rights,
    user_can_manage,
    user_deactivate,
    user_delete,
    user_demote,
    user_logout_all,
    user_promote,
)
from audit.models import AuditEntry
from tests.accounts.helpers import capture
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def member(db):
    """An admin in the Administrators group, not a superuser."""
    return user_promote(actor=None, user=UserFactory(username="member"))


def _outstanding(user):
    return OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count()


def _state(user):
    user = User.objects.get(pk=user.pk)
    return (user.is_staff, user.is_superuser, user.is_active)


# ---------------------------------------------------------------- the policy


@pytest.mark.parametrize(
    ("actor_kind", "target_kind", "allowed"),
    [
        ("operator", "superuser", True),
        ("superuser", "superuser", True),
        ("superuser", "user", True),
        ("admin", "user", True),
        ("admin", "admin", True),
        ("admin", "self", True),
        ("admin", "superuser", False),
        ("inactive admin", "user", False),
        ("user", "user", False),
    ],
)
def test_who_may_manage_whom(actor_kind, target_kind, allowed):
    kinds = {
        "operator": None,
        "superuser": UserFactory(is_staff=True, is_superuser=True),
        "admin": UserFactory(is_staff=True),
        "inactive admin": UserFactory(is_staff=True, is_active=False),
        "user": UserFactory(),
    }
    actor = kinds[actor_kind]
    target = actor if target_kind == "self" else UserFactory(is_staff=target_kind != "user")
    if target_kind == "superuser":
        target = UserFactory(is_staff=True, is_superuser=True)
    assert user_can_manage(actor=actor, user=target) is allowed


def test_only_superusers_and_the_operator_grant_rights(root, member):
    assert user_can_grant_rights(actor=None)
    assert user_can_grant_rights(actor=root)
    assert not user_can_grant_rights(actor=member)


def test_a_refusal_for_lack_of_rights_is_a_permission_denied_not_a_conflict(member, root):
    with pytest.raises(AdminRightsForbidden) as refused:
        user_demote(actor=member, user=root)
    assert isinstance(refused.value, PermissionDenied)
    assert not isinstance(refused.value, AdminRightsConflict)


# ---------------------------------------------------------------- an admin who is not a superuser


def test_an_admin_cannot_make_a_superuser(member, user):
    with pytest.raises(AdminRightsForbidden, match="Only a superuser can make a superuser"):
        user_promote(actor=member, user=user, superuser=True)
    assert _state(user) == (False, False, True)


def test_an_admin_cannot_promote_a_superuser_who_is_not_staff(member):
    target = UserFactory(is_superuser=True)
    with pytest.raises(AdminRightsForbidden):
        user_promote(actor=member, user=target)
    assert _state(target) == (False, True, True)


def test_an_admin_cannot_demote_a_superuser(member, root):
    refused = pytest.raises(AdminRightsForbidden, match="Only a superuser can change the superuser root")
    with capture(signals.user_demoted) as sent, refused:
        user_demote(actor=member, user=root)
    assert _state(root) == (True, True, True)
    assert sent == []
    assert not AuditEntry.objects.filter(action="user_demoted").exists()


def test_an_admin_cannot_deactivate_a_superuser(member, root):
    RefreshToken.for_user(root)
    with pytest.raises(AdminRightsForbidden):
        user_deactivate(actor=member, user=root)
    assert _state(root) == (True, True, True)
    assert _outstanding(root) == 1


def test_an_admin_cannot_delete_a_superuser(member, root):
    with pytest.raises(AdminRightsForbidden):
        user_delete(actor=member, user=root)
    assert User.objects.filter(pk=root.pk).exists()
    assert not AuditEntry.objects.filter(action="user_deleted").exists()


def test_an_admin_cannot_edit_a_superuser(member, root):
    with pytest.raises(AdminRightsForbidden):
        user_admin_update(actor=member, user=root, changes={"email": "mine@example.com"})
    assert User.objects.get(pk=root.pk).email == root.email


def test_an_admin_cannot_record_a_password_set_for_a_superuser(member, root):
    RefreshToken.for_user(root)
    with pytest.raises(AdminRightsForbidden):
        user_admin_set_password(actor=member, user=root)
    assert _outstanding(root) == 1
    assert not AuditEntry.objects.filter(action="password_changed").exists()


def test_an_admin_cannot_log_a_superuser_out_everywhere(member, root):
    RefreshToken.for_user(root)
    with pytest.raises(AdminRightsForbidden):
        user_logout_all(actor=member, user=root)
    assert _outstanding(root) == 1
    assert not AuditEntry.objects.filter(action="logout").exists()


def test_an_admin_cannot_make_themselves_superuser_by_an_edit(member):
    with pytest.raises(AdminRightsForbidden, match="is_superuser"):
        user_admin_update(actor=member, user=member, changes={"is_superuser": True})
    assert _state(member) == (True, False, True)


def test_an_admin_cannot_give_themselves_a_group(member):
    powerful = Group.objects.create(name="Powerful")
    powerful.permissions.add(Permission.objects.get(codename="change_group"))
    with pytest.raises(AdminRightsForbidden, match="groups"):
        user_admin_update(actor=member, user=member, changes={"groups": [powerful]})
    assert not member.groups.filter(pk=powerful.pk).exists()


def test_an_admin_cannot_give_themselves_a_permission(member):
    permission = Permission.objects.get(codename="delete_user")
    with pytest.raises(AdminRightsForbidden, match="user_permissions"):
        user_admin_update(actor=member, user=member, changes={"user_permissions": [permission]})
    assert not member.user_permissions.exists()
    assert not User.objects.get(pk=member.pk).has_perm("accounts.delete_user")


def test_an_admin_cannot_change_another_users_groups(member, user):
    with pytest.raises(AdminRightsForbidden):
        user_admin_update(actor=member, user=user, changes={"groups": [Group.objects.get(name=ADMINISTRATORS_GROUP)]})
    assert not user.groups.exists()


def test_an_admin_still_manages_ordinary_users(member, user):
    RefreshToken.for_user(user)
    user_admin_update(actor=member, user=user, changes={"email": "new@example.com"})
    user_logout_all(actor=member, user=user)
    user_promote(actor=member, user=user)
    user_demote(actor=member, user=user)
    user_deactivate(actor=member, user=user)
    assert _state(user) == (False, False, False)
    assert _outstanding(user) == 0


def test_an_actor_who_lost_superuser_meanwhile_is_refused(root, member):
    other = UserFactory(is_staff=True, is_superuser=True)
    stale = User.objects.get(pk=other.pk)  # loaded while still a superuser
    User.objects.filter(pk=other.pk).update(is_superuser=False)
    with pytest.raises(AdminRightsForbidden):
        user_demote(actor=stale, user=root)
    assert _state(root) == (True, True, True)


def test_an_actor_who_lost_admin_rights_meanwhile_is_refused(member, user):
    stale = User.objects.get(pk=member.pk)
    User.objects.filter(pk=member.pk).update(is_staff=False)
    with pytest.raises(AdminRightsForbidden, match="Admin rights are required"):
        user_deactivate(actor=stale, user=user)
    assert _state(user) == (False, False, True)


# ---------------------------------------------------------------- superusers


def test_a_superuser_demotes_another_superuser(root):
    other = UserFactory(is_staff=True, is_superuser=True)
    user_demote(actor=root, user=other)
    assert _state(other) == (False, False, True)


def test_a_superuser_grants_groups_and_permissions_audited_as_user_updated(root, user):
    group = Group.objects.create(name="Readers")
    permission = Permission.objects.get(codename="view_note")
    with capture(signals.user_updated) as sent:
        user_admin_update(actor=root, user=user, changes={"groups": [group], "user_permissions": [permission]})
    assert list(user.groups.all()) == [group]
    assert list(user.user_permissions.all()) == [permission]
    assert sent[0]["fields"] == ["groups", "user_permissions"]
    assert sent[0]["actor"] == root


def test_an_edit_keeps_the_administrators_group_of_an_admin(root, member):
    user_admin_update(actor=root, user=member, changes={"groups": []})
    assert member.groups.filter(name=ADMINISTRATORS_GROUP).exists()


def test_ticking_superuser_in_an_edit_promotes_through_the_service(root, user):
    with capture(signals.user_promoted) as sent:
        user_admin_update(actor=root, user=user, changes={"is_superuser": True})
    assert _state(user) == (True, True, True)
    assert sent[0]["superuser"] is True
    assert user.groups.filter(name=ADMINISTRATORS_GROUP).exists()


def test_unticking_superuser_in_an_edit_keeps_the_admin(root):
    other = user_promote(actor=None, user=UserFactory(), superuser=True)
    with capture(signals.user_updated) as sent:
        user_admin_update(actor=root, user=other, changes={"is_superuser": False})
    assert _state(other) == (True, False, True)
    assert sent[0]["fields"] == ["is_superuser"]


def test_an_edit_cannot_change_the_password_or_unknown_fields(root, user):
    with pytest.raises(ValueError, match="password"):
        user_admin_update(actor=root, user=user, changes={"password": "plain"})


# ---------------------------------------------------------------- the last active superuser


def test_the_operator_cannot_demote_the_last_active_superuser(root):
    UserFactory(is_staff=True, is_superuser=True, is_active=False)
    with pytest.raises(AdminRightsConflict, match="last superuser"):
        user_demote(actor=None, user=root)
    assert _state(root) == (True, True, True)


def test_the_operator_cannot_deactivate_the_last_active_superuser(root):
    with pytest.raises(AdminRightsConflict, match="last superuser"):
        user_deactivate(actor=None, user=root)
    assert _state(root) == (True, True, True)


def test_the_last_superuser_cannot_drop_their_own_superuser_status(root):
    with pytest.raises(AdminRightsConflict, match="last superuser"):
        user_admin_update(actor=root, user=root, changes={"is_superuser": False})
    assert _state(root) == (True, True, True)


def test_an_edit_cannot_deactivate_yourself(root):
    UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(AdminRightsConflict, match="deactivate yourself"):
        user_admin_update(actor=root, user=root, changes={"is_active": False})


def test_an_edit_cannot_remove_your_own_admin_rights(member):
    with pytest.raises(AdminRightsConflict, match="your own admin rights"):
        user_admin_check(actor=member, user=member, changes={"is_staff": False})


def test_a_superuser_can_drop_their_superuser_status_when_another_remains(root):
    UserFactory(is_staff=True, is_superuser=True)
    user_admin_update(actor=root, user=root, changes={"is_superuser": False})
    assert _state(root) == (True, False, True)


# ---------------------------------------------------------------- log out everywhere


def test_an_admin_logging_a_user_out_everywhere_is_audited_with_the_admin_as_actor(member, user):
    RefreshToken.for_user(user)
    RefreshToken.for_user(user)
    user_logout_all(actor=member, user=user)
    assert _outstanding(user) == 0
    entry = AuditEntry.objects.get(action="logout")
    assert (entry.actor_id, entry.actor_username, int(entry.target_id)) == (member.pk, "member", user.pk)


def test_logging_yourself_out_everywhere_is_still_audited_as_yourself(user):
    user_logout_all(user=user)
    entry = AuditEntry.objects.get(action="logout")
    assert (entry.actor_id, int(entry.target_id)) == (user.pk, user.pk)


# ---------------------------------------------------------------- concurrency


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_superusers_demoting_each_other_at_once_leave_one():
    Group.objects.get_or_create(name=ADMINISTRATORS_GROUP)  # an earlier flush may have removed the migration's
    first = UserFactory(username="first", is_staff=True, is_superuser=True)
    second = UserFactory(username="second", is_staff=True, is_superuser=True)

    def slow(sender, **kwargs):
        time.sleep(0.3)  # the winner's transaction stays open while the other arrives

    signals.user_demoted.connect(slow, weak=False)
    barrier = threading.Barrier(2)
    results = [None, None]

    def demote(index, actor, user):
        try:
            barrier.wait(timeout=10)
            user_demote(actor=actor, user=user)
            results[index] = "demoted"
        except Exception as exc:
            results[index] = type(exc).__name__
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(0, User.objects.get(pk=first.pk), User.objects.get(pk=second.pk))),
        threading.Thread(target=demote, args=(1, User.objects.get(pk=second.pk), User.objects.get(pk=first.pk))),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        signals.user_demoted.disconnect(slow)
    assert sorted(results) == ["AdminRightsForbidden", "demoted"], results
    assert User.objects.filter(is_superuser=True, is_active=True).count() == 1
