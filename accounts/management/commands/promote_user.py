"""Make a user an admin from the command line (the first admin, or in an emergency).

The change goes through ``accounts.services.user_promote`` like the API and the
admin site, and is audited with the actor ``cli``.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import AdminRightsConflict, user_promote


class Command(BaseCommand):
    help = "Make USERNAME an admin (is_staff and the Administrators group); --superuser also grants every permission."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user's username (case-insensitive)")
        parser.add_argument("--superuser", action="store_true", help="also make the user a superuser")

    def handle(self, *args, username, superuser, **options):
        try:
            user = User.objects.by_username(username).get()
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            user_promote(actor=None, user=user, superuser=superuser)
        except AdminRightsConflict as exc:
            raise CommandError(str(exc)) from None
        kind = "superuser" if superuser else "admin"
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"{user.username} is now an {kind}."))
