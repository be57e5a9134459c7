"""Each audited signal writes one row with the right actor, target and detail (guarantee 3)."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed

from accounts import signals
from audit import receivers
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

User = get_user_model()


def _only_row(request_context) -> AuditEntry:
    """Runs what the middleware runs after the response, then returns the one row."""
    for task in request_context.after_response:
        task()
    (entry,) = AuditEntry.objects.all()
    return entry


def _facts(entry: AuditEntry) -> tuple:
    return (entry.action, entry.actor_id, entry.actor_username, entry.target_type, entry.target_id, entry.detail)


def _assert_request_context(entry: AuditEntry) -> None:
    assert (entry.ip, entry.user_agent, entry.request_id) == ("203.0.113.9", "pytest-agent/1.0", "req-123")


def test_user_logged_in_records_login_success(request_context, user):
    user_logged_in.send(sender=User, request=None, user=user)
    entry = _only_row(request_context)
    assert _facts(entry) == ("login_success", user.pk, "alice", "user", user.pk, "")
    _assert_request_context(entry)


def test_user_login_failed_records_login_failed_with_the_attempted_username_only(request_context):
    user_login_failed.send(sender=__name__, credentials={"username": "mallory", "password": "hunter2"}, request=None)
    entry = _only_row(request_context)
    assert _facts(entry) == ("login_failed", None, "", None, None, "mallory")
    _assert_request_context(entry)


def test_the_attempted_username_is_cut_to_150_characters(request_context):
    user_login_failed.send(sender=__name__, credentials={"username": "m" * 400}, request=None)
    assert _only_row(request_context).detail == "m" * 150


def test_a_failed_django_authenticate_is_recorded(request_context, user):
    assert authenticate(username="alice", password="wrong") is None
    assert _facts(_only_row(request_context)) == ("login_failed", None, "", None, None, "alice")


def test_login_throttled_records_the_attempted_username(request_context):
    signals.login_throttled.send(sender=User, username="alice")
    entry = _only_row(request_context)
    assert _facts(entry) == ("login_throttled", None, "", None, None, "alice")
    _assert_request_context(entry)


def test_user_signed_up_records_signup(request_context, user):
    signals.user_signed_up.send(sender=User, user=user)
    entry = _only_row(request_context)
    assert _facts(entry) == ("signup", user.pk, "alice", "user", user.pk, "")
    _assert_request_context(entry)


def test_user_logged_out_records_logout(request_context, user):
    signals.user_logged_out.send(sender=User, user=user)
    assert _facts(_only_row(request_context)) == ("logout", user.pk, "alice", "user", user.pk, "")


def test_refresh_token_reused_records_token_reuse_against_its_user(request_context, user):
    signals.refresh_token_reused.send(sender=User, user=user)
    entry = _only_row(request_context)
    assert _facts(entry) == ("token_reuse", user.pk, "alice", "user", user.pk, "")
    _assert_request_context(entry)


def test_a_reused_token_of_no_known_user_is_recorded_without_actor(request_context):
    signals.refresh_token_reused.send(sender=User, user=None)
    assert _facts(_only_row(request_context)) == ("token_reuse", None, "", None, None, "")


def test_password_changed_records_the_actor_and_the_user(request_context, user):
    signals.password_changed.send(sender=User, actor=user, user=user)
    assert _facts(_only_row(request_context)) == ("password_changed", user.pk, "alice", "user", user.pk, "")


def test_profile_updated_names_the_changed_fields(request_context, user):
    signals.profile_updated.send(sender=User, user=user, fields=["email"])
    assert _facts(_only_row(request_context)) == ("profile_updated", user.pk, "alice", "user", user.pk, "email")


def test_user_promoted_records_the_admin_and_the_promoted_user(request_context, admin_user, user):
    signals.user_promoted.send(sender=User, actor=admin_user, user=user, superuser=False)
    entry = _only_row(request_context)
    assert _facts(entry) == ("user_promoted", admin_user.pk, "root", "user", user.pk, "")
    _assert_request_context(entry)


def test_a_promotion_to_superuser_says_so(request_context, admin_user, user):
    signals.user_promoted.send(sender=User, actor=admin_user, user=user, superuser=True)
    assert _only_row(request_context).detail == "superuser"


def test_a_promotion_from_the_command_line_is_recorded_as_cli(user):
    signals.user_promoted.send(sender=User, actor=None, user=user, superuser=False)
    entry = AuditEntry.objects.get()
    assert _facts(entry) == ("user_promoted", None, "cli", "user", user.pk, "")
    assert (entry.ip, entry.user_agent, entry.request_id) == (None, "", "")


def test_user_demoted_records_the_admin_and_the_demoted_user(request_context, admin_user, user):
    signals.user_demoted.send(sender=User, actor=admin_user, user=user)
    assert _facts(_only_row(request_context)) == ("user_demoted", admin_user.pk, "root", "user", user.pk, "")


def test_a_demotion_from_the_command_line_is_recorded_as_cli(user):
    signals.user_demoted.send(sender=User, actor=None, user=user)
    assert _facts(AuditEntry.objects.get()) == ("user_demoted", None, "cli", "user", user.pk, "")


def test_user_updated_names_the_changed_fields(request_context, admin_user, user):
    signals.user_updated.send(sender=User, actor=admin_user, user=user, fields=["is_active", "email"])
    entry = _only_row(request_context)
    assert _facts(entry) == ("user_updated", admin_user.pk, "root", "user", user.pk, "email, is_active")


def test_user_deleted_records_the_admin_and_the_deleted_user(request_context, admin_user, user):
    signals.user_deleted.send(sender=User, actor=admin_user, user=user)
    assert _facts(_only_row(request_context)) == ("user_deleted", admin_user.pk, "root", "user", user.pk, "")


def test_access_denied_records_the_user_and_the_method_and_path(request_context, user):
    signals.access_denied.send(sender=User, user=user, method="GET", path="/api/audit/logs/")
    entry = _only_row(request_context)
    assert _facts(entry) == ("access_denied", user.pk, "alice", None, None, "GET /api/audit/logs/")
    _assert_request_context(entry)


def test_every_receiver_is_connected_once_with_a_dispatch_uid(request_context, user):
    from django.apps import apps

    from audit.apps import AuditConfig

    AuditConfig.ready(apps.get_app_config("audit"))  # a second ready() must not double the rows
    signals.user_logged_out.send(sender=User, user=user)
    assert AuditEntry.objects.count() == 1


def _note(pk: int, owner):
    """Stands in for a notes.Note (id, owner, and the model label the writer maps to "note")."""
    return SimpleNamespace(pk=pk, owner=owner, text="private text", _meta=SimpleNamespace(label_lower="notes.note"))


def test_a_created_note_is_recorded_with_its_owner_as_actor(request_context, user):
    receivers.record_note_saved(sender=None, instance=_note(5, user), created=True)
    entry = _only_row(request_context)
    assert _facts(entry) == ("note_created", user.pk, "alice", "note", 5, "")
    _assert_request_context(entry)


def test_an_updated_note_is_recorded(request_context, user):
    receivers.record_note_saved(sender=None, instance=_note(5, user), created=False)
    assert _facts(_only_row(request_context)) == ("note_updated", user.pk, "alice", "note", 5, "")


def test_a_deleted_note_is_recorded(request_context, user):
    receivers.record_note_deleted(sender=None, instance=_note(5, user))
    assert _facts(_only_row(request_context)) == ("note_deleted", user.pk, "alice", "note", 5, "")
