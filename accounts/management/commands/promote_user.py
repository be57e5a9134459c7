"""Make a user an admin from the command line (the first admin, or in an emergency).

The change goes through ``accounts.services.user_promote`` like the API and the
admin site, and is audited with the actor ``cli``.
"""

from accounts.management.user_command import UserCommand
from accounts.services import AdminRightsConflict, user_promote


class Command(UserCommand):
    help = "Make USERNAME an admin (is_staff and the Administrators group); --superuser also grants every permission."
    refusals = (AdminRightsConflict,)

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--superuser", action="store_true", help="also make the user a superuser")

    def act(self, user, *, superuser, **options):
        user_promote(actor=None, user=user, superuser=superuser)
        kind = "superuser" if superuser else "admin"
        return self.style.SUCCESS(f"{user.username} is now an {kind}.")
