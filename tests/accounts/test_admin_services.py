"""user_promote / user_demote / user_deactivate: the rules every entry point shares."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import signals
from accounts.services import (
    ADMINISTRATORS_GROUP,
    AdminRightsConflict,
    user_deactivate,
    user_delete,
    user_demote,
    user_promote,
)
from accounts.tokens import RefreshToken
from audit.models import AuditEntry
from tests.accounts.helpers import capture
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


def _outstanding(user):
    return OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count()


def test_promote_makes_an_admin_in_the_administrators_group(admin_user, user):
    with capture(signals.user_promoted) as sent:
        user_promote(actor=admin_user, user=user)
    user.refresh_from_db()
    assert user.is_staff
    assert not user.is_superuser
    assert user.groups.filter(name=ADMINISTRATORS_GROUP).exists()
    assert sent[0]["actor"] == admin_user
    assert sent[0]["user"] == user


def test_administrators_can_manage_users_and_read_the_audit_but_not_notes(admin_user, user):
    user_promote(actor=admin_user, user=user)
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("accounts.view_user")
    assert user.has_perm("accounts.change_user")
    assert user.has_perm("audit.view_auditentry")
    assert not user.has_perm("notes.view_note")


def test_promote_with_superuser_grants_superuser(user):
    user_promote(actor=None, user=user, superuser=True)
    user.refresh_from_db()
    assert user.is_superuser


def test_promoting_an_admin_again_is_a_conflict(admin_user):
    with pytest.raises(AdminRightsConflict):
        user_promote(actor=None, user=admin_user)


def test_demote_removes_rights_group_and_refresh_tokens(admin_user):
    other = AdminFactory()
    user_promote(actor=None, user=UserFactory())  # keeps the group around
    RefreshToken.for_user(other)
    with capture(signals.user_demoted) as sent:
        user_demote(actor=admin_user, user=other)
    other.refresh_from_db()
    assert not other.is_staff
    assert not other.groups.filter(name=ADMINISTRATORS_GROUP).exists()
    assert _outstanding(other) == 0
    assert sent[0]["actor"] == admin_user


def test_demoting_yourself_is_a_conflict(admin_user):
    with pytest.raises(AdminRightsConflict, match="your own"):
        user_demote(actor=admin_user, user=admin_user)


def test_demoting_a_non_admin_is_a_conflict(admin_user, user):
    with pytest.raises(AdminRightsConflict, match="not an admin"):
        user_demote(actor=admin_user, user=user)


def test_the_last_superuser_cannot_be_demoted():
    root = UserFactory(is_staff=True, is_superuser=True)
    with pytest.raises(AdminRightsConflict, match="last superuser"):
        user_demote(actor=None, user=root)


def test_deactivate_revokes_tokens_and_sends_user_updated(admin_user, user):
    RefreshToken.for_user(user)
    with capture(signals.user_updated) as sent:
        user_deactivate(actor=admin_user, user=user)
    user.refresh_from_db()
    assert not user.is_active
    assert _outstanding(user) == 0
    assert sent[0]["fields"] == ["is_active"]


def test_deactivating_yourself_is_a_conflict(admin_user):
    with pytest.raises(AdminRightsConflict):
        user_deactivate(actor=admin_user, user=admin_user)


def test_cli_promotion_is_audited_with_the_cli_actor(user):
    user_promote(actor=None, user=user)
    entry = AuditEntry.objects.get(action="user_promoted")
    assert entry.actor_username == "cli"
    assert entry.target_id == str(user.pk) or int(entry.target_id) == user.pk


def test_deleting_a_user_keeps_their_audit_rows(admin_user, user):
    user_promote(actor=None, user=user)
    user_id = user.pk
    user_delete(actor=admin_user, user=user)
    assert AuditEntry.objects.filter(action="user_deleted", actor_username=admin_user.username).exists()
    assert AuditEntry.objects.filter(action="user_promoted", target_id=user_id).exists()
