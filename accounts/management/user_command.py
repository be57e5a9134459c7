"""The scaffolding of the commands that act on one user named on the command line.

``promote_user``, ``demote_user``, ``unlock_user`` and ``mfa_reset`` differ
only in the service they call and what they say; the lookup, the refusals as
``CommandError`` (exit 1, no traceback) and ``--verbosity`` are here once.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User


class UserCommand(BaseCommand):
    """Finds USERNAME (case-insensitive), calls ``act`` and writes the message it returns.

    The exceptions in ``refusals`` become a ``CommandError`` saying ``refusal(user, exc)``.
    """

    refusals: tuple[type[Exception], ...] = ()

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user's username (case-insensitive)")

    def handle(self, *args, username, **options):
        try:
            user = User.objects.by_username(username).get()
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            message = self.act(user, **options)
        except self.refusals as exc:
            raise CommandError(self.refusal(user, exc)) from None
        if message and options["verbosity"] > 0:
            self.stdout.write(message)

    def act(self, user: User, **options) -> str | None:
        """Calls the service; returns what to say when it is done (at verbosity 1 and more)."""
        raise NotImplementedError

    def refusal(self, user: User, exc: Exception) -> str:
        return str(exc)
