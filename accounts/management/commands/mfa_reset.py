"""Turn off a user's lost second factor from the command line.

For a user who lost both the authenticator and the recovery codes: their
two-factor login goes through ``accounts.mfa.mfa_turn_off`` (authenticator and
recovery codes removed) and is audited as ``mfa_disabled`` with the actor
``cli``. They log in with the password alone and may enroll again.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.mfa import mfa_enabled, mfa_turn_off
from accounts.models import User


class Command(BaseCommand):
    help = "Turn USERNAME's two-factor login off (a lost authenticator); audited as mfa_disabled by cli."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the user's username (case-insensitive)")
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def handle(self, *args, username, dry_run, **options):
        try:
            user = User.objects.by_username(username).get()
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if dry_run:
            state = "on" if mfa_enabled(user) else "off"
            self.stdout.write(f"{user.username}: two-factor login is {state}; nothing changed (--dry-run).")
            return
        was_on = mfa_turn_off(actor=None, user=user)
        if options["verbosity"] > 0:
            if was_on:
                self.stdout.write(self.style.SUCCESS(f"Two-factor login of {user.username} is off."))
            else:
                self.stdout.write(f"{user.username} had no two-factor login; nothing changed.")
