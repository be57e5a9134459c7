"""Clear a user's login lockout from the command line.

Goes through ``accounts.services.user_unlock``: the failed-login counts of
the username from every client IP are forgotten at once, and the change is
audited (``user_updated``, detail "lockout cleared") with the actor ``cli``.
"""

from accounts.lockout import ClearFailed
from accounts.management.user_command import UserCommand
from accounts.services import user_unlock


class Command(UserCommand):
    help = "Clear USERNAME's login lockout (failed logins from every IP); audited with the actor cli."
    refusals = (ClearFailed,)

    def act(self, user, **options):
        user_unlock(actor=None, user=user)
        return self.style.SUCCESS(f"{user.username}'s login lockout is cleared.")

    def refusal(self, user, exc):
        return f"The lockout of {user.username} could not be cleared: the cache refused the write."
