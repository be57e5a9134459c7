"""Remove a user's admin rights from the command line.

Goes through ``accounts.services.user_demote`` (revokes the user's refresh
tokens; refuses the last superuser) and is audited with the actor ``cli``.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import AdminRightsConflict, user_demote


class Command(BaseCommand):
    help = "Remove USERNAME's admin rights and revoke their refresh tokens."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user's username (case-insensitive)")

    def handle(self, *args, username, **options):
        try:
            user = User.objects.by_username(username).get()
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            user_demote(actor=None, user=user)
        except AdminRightsConflict as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"{user.username} is no longer an admin."))
