"""Appends synthetic audit rows for benchmarks and demos: ``manage.py seed_audit --rows N``.

The rows continue the real chain (they verify), spread over the past year,
with actors drawn from existing users. Audit rows can never be deleted, so
this refuses to run unless DEBUG is on or ``--force`` is given (and the demo
app itself is installed only with DEBUG or ``DEVLAB_DEMO=True``).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.services import audit_seed


class Command(BaseCommand):
    help = "Appends N synthetic, validly chained audit rows (benchmarks and demos only: they cannot be removed)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True, help="How many rows to add.")
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per insert (default 5000).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be added, add nothing.")
        parser.add_argument(
            "--force", action="store_true", help="Run although DEBUG is off (the rows stay in the trail for good)."
        )

    def handle(self, *args, **options):
        rows = options["rows"]
        if rows < 1 or options["batch_size"] < 1:
            raise CommandError("--rows and --batch-size must be at least 1.")
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_audit adds rows that can never be deleted; it runs with DEBUG on, or with --force."
            )
        if options["dry_run"]:
            self.stdout.write(f"Would add {rows:,} synthetic audit rows (dry run: nothing written).")
            return
        verbosity = options["verbosity"]
        interactive = self.stdout.isatty()
        started = time.monotonic()
        last_tenth = 0

        def progress(done: int) -> None:
            nonlocal last_tenth
            if verbosity < 1:
                return
            line = f"{done:,}/{rows:,} rows ({done * 100 // rows}%), {time.monotonic() - started:.1f}s"
            if interactive:
                self.stdout.write("\r" + line, ending="")
                self.stdout.flush()
            elif done * 10 // rows > last_tenth or done == rows:
                last_tenth = done * 10 // rows
                self.stdout.write(line)

        added = audit_seed(rows=rows, batch_size=options["batch_size"], progress=progress, seed=options["seed"])
        if verbosity >= 1:
            if interactive:
                self.stdout.write("")
            elapsed = time.monotonic() - started
            self.stdout.write(
                self.style.SUCCESS(f"Added {added:,} audit rows in {elapsed:.1f}s ({added / elapsed:,.0f} rows/s).")
            )
