"""Clear a user's login lockout from the command line.

Goes through ``accounts.services.user_unlock``: the failed-login counts of
the username from every client IP are forgotten at once, and the change is
audited (``user_updated``, detail "lockout cleared") with the actor ``cli``.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.lockout import ClearFailed
from accounts.models import User
from accounts.services import user_unlock


class Command(BaseCommand):
    help = "Clear USERNAME's login lockout (failed logins from every IP); audited with the actor cli."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user's username (case-insensitive)")

    def handle(self, *args, username, **options):
        try:
            user = User.objects.by_username(username).get()
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            user_unlock(actor=None, user=user)
        except ClearFailed:
            raise CommandError(
                f"The lockout of {user.username} could not be cleared: the cache refused the write."
            ) from None
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"{user.username}'s login lockout is cleared."))
