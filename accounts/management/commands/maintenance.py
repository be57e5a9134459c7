"""Remove expired refresh tokens, sessions and database-cache entries.

Run it daily (the production compose file runs it in a loop; see
docs/operations.md for cron and systemd). The work is in ``devlab.maintenance``;
this prints what each task removed, or with ``--dry-run`` would remove.
"""

from django.core.management.base import BaseCommand

from devlab import maintenance


class Command(BaseCommand):
    help = "Remove expired refresh tokens, sessions and database-cache entries, and print what was removed."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be removed, remove nothing")

    def handle(self, *args, dry_run, **options):
        verb = "Would remove" if dry_run else "Removed"
        for removed in maintenance.run(dry_run=dry_run):
            if options["verbosity"] > 0:
                count = "the" if removed.count is None else removed.count
                self.stdout.write(f"{verb} {count} {removed.what}.")
