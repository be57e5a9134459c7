from django.apps import AppConfig, apps
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_migrate, post_save


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit"

    def ready(self):
        """Connects every audit receiver: the whole list of what is recorded, in one place."""
        from accounts import signals as account_signals
        from audit import receivers

        connections = [
            (user_logged_in, receivers.record_login_success, None),
            (user_login_failed, receivers.record_login_failed, None),
            (account_signals.user_signed_up, receivers.record_signup, None),
            (account_signals.login_throttled, receivers.record_login_throttled, None),
            (account_signals.user_logged_out, receivers.record_logout, None),
            (account_signals.refresh_token_reused, receivers.record_token_reuse, None),
            (account_signals.password_changed, receivers.record_password_changed, None),
            (account_signals.password_change_failed, receivers.record_password_change_failed, None),
            (account_signals.mfa_enabled, receivers.record_mfa_enabled, None),
            (account_signals.mfa_disabled, receivers.record_mfa_disabled, None),
            (account_signals.mfa_failed, receivers.record_mfa_failed, None),
            (account_signals.recovery_code_used, receivers.record_recovery_code_used, None),
            (account_signals.password_reset_requested, receivers.record_password_reset_requested, None),
            (account_signals.password_reset_done, receivers.record_password_reset_done, None),
            (account_signals.profile_updated, receivers.record_profile_updated, None),
            (account_signals.user_promoted, receivers.record_user_promoted, None),
            (account_signals.user_demoted, receivers.record_user_demoted, None),
            (account_signals.user_updated, receivers.record_user_updated, None),
            (account_signals.user_unlocked, receivers.record_user_unlocked, None),
            (account_signals.user_deleted, receivers.record_user_deleted, None),
            (account_signals.access_denied, receivers.record_access_denied, None),
        ]
        if apps.is_installed("notes") and "note" in apps.all_models["notes"]:
            connections += [
                (post_save, receivers.record_note_saved, "notes.Note"),
                (post_delete, receivers.record_note_deleted, "notes.Note"),
            ]
        for signal, receiver, sender in connections:
            signal.connect(receiver, sender=sender, dispatch_uid=f"audit.{receiver.__name__}", weak=False)

        # After migrate, the audit tables of a runtime role are append-only again
        # (a new one got full rights from the default privileges): audit/dbroles.py.
        from audit import dbroles

        post_migrate.connect(dbroles.reapply_after_migrate, sender=self, dispatch_uid="audit.dbroles", weak=False)
