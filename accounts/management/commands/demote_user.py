"""Remove a user's admin rights from the command line.

Goes through ``accounts.services.user_demote`` (revokes the user's refresh
tokens; refuses the last superuser) and is audited with the actor ``cli``.
"""

from accounts.management.user_command import UserCommand
from accounts.services import AdminRightsConflict, user_demote


class Command(UserCommand):
    help = "Remove USERNAME's admin rights and revoke their refresh tokens."
    refusals = (AdminRightsConflict,)

    def act(self, user, **options):
        user_demote(actor=None, user=user)
        return self.style.SUCCESS(f"{user.username} is no longer an admin.")
