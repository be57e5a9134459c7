"""Turn off a user's lost second factor from the command line.

For a user who lost both the authenticator and the recovery codes: their
two-factor login goes through ``accounts.mfa.mfa_turn_off`` (authenticator and
recovery codes removed) and is audited as ``mfa_disabled`` with the actor
``cli``. They log in with the password alone and may enroll again.
"""

from accounts.management.user_command import UserCommand
from accounts.mfa import mfa_enabled, mfa_turn_off


class Command(UserCommand):
    help = "Turn USERNAME's two-factor login off (a lost authenticator); audited as mfa_disabled by cli."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def act(self, user, *, dry_run, **options):
        if dry_run:  # said whatever the verbosity: it is all a dry run does
            state = "on" if mfa_enabled(user) else "off"
            self.stdout.write(f"{user.username}: two-factor login is {state}; nothing changed (--dry-run).")
            return None
        if mfa_turn_off(actor=None, user=user):
            return self.style.SUCCESS(f"Two-factor login of {user.username} is off.")
        return f"{user.username} had no two-factor login; nothing changed."
