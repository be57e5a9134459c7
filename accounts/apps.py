from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_administrators_group(sender, **kwargs):
    """Keeps the Administrators group's permissions exact after every migrate.

    Permissions are created by post_migrate too, so a data migration on a
    fresh database would find none; this runs after them.
    """
    from accounts.services import administrators_group

    administrators_group()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        post_migrate.connect(_sync_administrators_group, dispatch_uid="accounts.administrators_group")
