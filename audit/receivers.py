"""One receiver per audited event; ``AuditConfig.ready()`` connects them.

Receivers translate a signal's kwargs into one ``audit_record`` call and
decide nothing else. They take only what the row needs: never a password,
a token, a credentials dict or a note's text.
"""

from django.contrib.auth import get_user_model

from audit.models import ACTOR_USERNAME_MAX_LENGTH, Action
from audit.services import CLI_USERNAME, audit_record

#: ``detail`` of the ``user_updated`` row that records a cleared lockout.
UNLOCKED_DETAIL = "lockout cleared"


def _actor_kwargs(actor) -> dict:
    """``actor=None`` in the account signals means the operator on the command line."""
    return {"actor": actor} if actor is not None else {"actor_username": CLI_USERNAME}


def _fields_detail(fields) -> str:
    return ", ".join(sorted(fields or ()))


def record_login_success(sender, request, user, **kwargs):
    """login_success: Django's user_logged_in (API, admin site and browsable-API logins)."""
    audit_record(action=Action.LOGIN_SUCCESS, actor=user, target=user)


def record_login_failed(sender, credentials, request=None, **kwargs):
    """login_failed: Django's user_login_failed; keeps the attempted username only."""
    username_field = get_user_model().USERNAME_FIELD
    attempted = credentials.get(username_field) or credentials.get("username") or ""
    audit_record(action=Action.LOGIN_FAILED, detail=str(attempted)[:ACTOR_USERNAME_MAX_LENGTH])


def record_login_throttled(sender, username, **kwargs):
    """login_throttled: a login refused by the lockout or the rate limit."""
    audit_record(action=Action.LOGIN_THROTTLED, detail=str(username or "")[:ACTOR_USERNAME_MAX_LENGTH])


def record_signup(sender, user, **kwargs):
    """signup: accounts.signals.user_signed_up."""
    audit_record(action=Action.SIGNUP, actor=user, target=user)


def record_logout(sender, user, actor=None, **kwargs):
    """logout: accounts.signals.user_logged_out; the actor is the user, or the admin who logged them out."""
    audit_record(action=Action.LOGOUT, actor=actor or user, target=user)


def record_token_reuse(sender, user, **kwargs):
    """token_reuse: accounts.signals.refresh_token_reused (user may be None)."""
    audit_record(action=Action.TOKEN_REUSE, actor=user, target=user)


def record_password_changed(sender, actor, user, **kwargs):
    """password_changed: accounts.signals.password_changed."""
    audit_record(action=Action.PASSWORD_CHANGED, target=user, **_actor_kwargs(actor))


def record_password_change_failed(sender, user, **kwargs):
    """password_change_failed: accounts.signals.password_change_failed (a wrong old password)."""
    audit_record(action=Action.PASSWORD_CHANGE_FAILED, actor=user, target=user)


def record_mfa_enabled(sender, user, **kwargs):
    """mfa_enabled: accounts.signals.mfa_enabled."""
    audit_record(action=Action.MFA_ENABLED, actor=user, target=user)


def record_mfa_disabled(sender, actor, user, **kwargs):
    """mfa_disabled: accounts.signals.mfa_disabled (actor "cli" for mfa_reset)."""
    audit_record(action=Action.MFA_DISABLED, target=user, **_actor_kwargs(actor))


def record_mfa_failed(sender, user, **kwargs):
    """mfa_failed: accounts.signals.mfa_failed; never the code."""
    audit_record(action=Action.MFA_FAILED, actor=user, target=user)


def record_recovery_code_used(sender, user, **kwargs):
    """recovery_code_used: accounts.signals.recovery_code_used; never the code."""
    audit_record(action=Action.RECOVERY_CODE_USED, actor=user, target=user)


def record_password_reset_requested(sender, user, **kwargs):
    """password_reset_requested: accounts.signals.password_reset_requested; no actor (anyone may ask)."""
    audit_record(action=Action.PASSWORD_RESET_REQUESTED, target=user)


def record_password_reset_done(sender, actor, user, **kwargs):
    """password_reset_done: accounts.signals.password_reset_done; never the token."""
    audit_record(action=Action.PASSWORD_RESET_DONE, actor=actor, target=user)


def record_profile_updated(sender, user, fields=(), **kwargs):
    """profile_updated: accounts.signals.profile_updated; detail names the changed fields."""
    audit_record(action=Action.PROFILE_UPDATED, actor=user, target=user, detail=_fields_detail(fields))


def record_user_promoted(sender, actor, user, superuser=False, **kwargs):
    """user_promoted: accounts.signals.user_promoted; detail says "superuser" when it was one."""
    audit_record(
        action=Action.USER_PROMOTED, target=user, detail="superuser" if superuser else "", **_actor_kwargs(actor)
    )


def record_user_demoted(sender, actor, user, **kwargs):
    """user_demoted: accounts.signals.user_demoted."""
    audit_record(action=Action.USER_DEMOTED, target=user, **_actor_kwargs(actor))


def record_user_updated(sender, actor, user, fields=(), **kwargs):
    """user_updated: accounts.signals.user_updated; detail names the changed fields."""
    audit_record(action=Action.USER_UPDATED, target=user, detail=_fields_detail(fields), **_actor_kwargs(actor))


def record_user_unlocked(sender, actor, user, **kwargs):
    """user_updated with detail "lockout cleared": accounts.signals.user_unlocked (AUDIT.md has no unlock action)."""
    audit_record(action=Action.USER_UPDATED, target=user, detail=UNLOCKED_DETAIL, **_actor_kwargs(actor))


def record_user_deleted(sender, actor, user, **kwargs):
    """user_deleted: accounts.signals.user_deleted, sent before the user row goes."""
    audit_record(action=Action.USER_DELETED, target=user, **_actor_kwargs(actor))


def record_access_denied(sender, user, method, path, **kwargs):
    """access_denied: accounts.signals.access_denied; detail is "METHOD path"."""
    audit_record(action=Action.ACCESS_DENIED, actor=user, detail=f"{method} {path}")


def record_note_saved(sender, instance, created, **kwargs):
    """note_created / note_updated: post_save of notes.Note, the owner as actor."""
    action = Action.NOTE_CREATED if created else Action.NOTE_UPDATED
    audit_record(action=action, actor=instance.owner, target=instance)


def record_note_deleted(sender, instance, **kwargs):
    """note_deleted: post_delete of notes.Note, the owner as actor."""
    audit_record(action=Action.NOTE_DELETED, actor=instance.owner, target=instance)
