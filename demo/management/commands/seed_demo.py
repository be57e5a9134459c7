"""Fills a database with demo data: ``manage.py seed_demo --users N --notes-per-user M --audit-rows K``.

For demos and benchmarks (bench/run.py starts every run from it). Users and
notes are inserted with bulk inserts, the password hashed once for all of
them; the audit rows go through ``demo.services.audit_seed`` into the audit
app's own batch append (``audit.services.audit_append_batch``), so the chain
stays valid. Bulk inserts send no signals: the users and notes made here have
no signup or note_created rows, and the audit rows are a synthetic history. Run it again to add more (usernames continue
``demoN`` after the highest existing one). Demo accounts share one known
password, and audit rows can never be removed, so it refuses to run unless
DEBUG is on or ``--force`` is given (and the demo app itself is installed
only with DEBUG or ``DEVLAB_DEMO=True``).
"""

import random
import re
import time

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from demo.services import audit_seed

USERNAME_PREFIX = "demo"
DEFAULT_PASSWORD = "devlab-demo-password"  # noqa: S105 - demo accounts, DEBUG or --force only
BATCH_SIZE = 5000
_SENTENCE = (
    "meeting notes call back the supplier about the invoice draft review for the release plan buy milk "
    "and bread ideas for the talk on databases remember to renew the certificate before friday book "
    "the train ask about the budget fix the flaky test read the paper on consensus water the plants"
)
_WORDS = tuple(_SENTENCE.split(" "))


class Command(BaseCommand):
    help = "Adds demo users, their notes and a synthetic, validly chained audit history (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10, help="Users to add (default 10).")
        parser.add_argument("--notes-per-user", type=int, default=20, help="Notes for each new user (default 20).")
        parser.add_argument("--audit-rows", type=int, default=1000, help="Audit rows to add (default 1000).")
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"Password of every new user (default {DEFAULT_PASSWORD!r})."
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for repeatable data.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be added, add nothing.")
        parser.add_argument(
            "--force", action="store_true", help="Run although DEBUG is off (audit rows stay in the trail for good)."
        )

    def handle(self, *args, **options):
        users, per_user, audit_rows = options["users"], options["notes_per_user"], options["audit_rows"]
        if min(users, per_user, audit_rows) < 0:
            raise CommandError("--users, --notes-per-user and --audit-rows cannot be negative.")
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo adds accounts with a known password and audit rows that can never be deleted; "
                "it runs with DEBUG on, or with --force."
            )
        if options["dry_run"]:
            self.stdout.write(
                f"Would add {users:,} users, {users * per_user:,} notes and {audit_rows:,} audit rows "
                "(dry run: nothing written)."
            )
            return
        self.verbosity = options["verbosity"]
        self.rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        started = time.monotonic()
        user_ids = self._users(users, options["password"])
        notes = self._notes(user_ids, per_user)
        if audit_rows:
            audit_seed(rows=audit_rows, batch_size=BATCH_SIZE, progress=self._progress("audit rows", audit_rows))
        filled = [("accounts", "User")] * bool(user_ids) + [("notes", "Note")] * bool(notes)
        self._analyze(filled + [("audit", "AuditEntry")] * bool(audit_rows))
        if self.verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Added {len(user_ids):,} users, {notes:,} notes and {audit_rows:,} audit rows "
                    f"in {time.monotonic() - started:.1f}s."
                )
            )

    def _progress(self, what: str, total: int):
        """A progress line: redrawn in place on a terminal, every tenth otherwise."""
        interactive = self.stdout.isatty()
        started = time.monotonic()
        last_tenth = 0

        def report(done: int) -> None:
            nonlocal last_tenth
            if self.verbosity < 1 or total == 0:
                return
            elapsed = time.monotonic() - started
            rate = done / elapsed if elapsed else 0
            line = f"{what}: {done:,}/{total:,} ({done * 100 // total}%), {elapsed:.1f}s, {rate:,.0f}/s"
            if interactive:
                self.stdout.write("\r" + line, ending="\n" if done == total else "")
                self.stdout.flush()
            elif done * 10 // total > last_tenth or done == total:
                last_tenth = done * 10 // total
                self.stdout.write(line)

        return report

    def _users(self, count: int, password: str) -> list[int]:
        user_model = get_user_model()
        pattern = re.compile(rf"^{USERNAME_PREFIX}(\d+)$")
        taken = user_model.objects.filter(username__startswith=USERNAME_PREFIX).values_list("username", flat=True)
        first = 1 + max((int(m.group(1)) for name in taken if (m := pattern.match(name))), default=0)
        encoded = make_password(password)  # once: PBKDF2 per user would take minutes
        progress = self._progress("users", count)
        ids = []
        for start in range(first, first + count, BATCH_SIZE):
            batch = [
                user_model(
                    username=f"{USERNAME_PREFIX}{n}", email=f"{USERNAME_PREFIX}{n}@example.com", password=encoded
                )
                for n in range(start, min(start + BATCH_SIZE, first + count))
            ]
            with transaction.atomic():
                ids += [user.pk for user in user_model.objects.bulk_create(batch)]
            progress(len(ids))
        return ids

    def _notes(self, user_ids: list[int], per_user: int) -> int:
        total = len(user_ids) * per_user
        if not total:
            return 0
        note_model = apps.get_model("notes", "Note")
        progress = self._progress("notes", total)
        owners = (owner for owner in user_ids for _ in range(per_user))
        done = 0
        while done < total:
            count = min(BATCH_SIZE, total - done)
            batch = [note_model(owner_id=next(owners), text=self._text()) for _ in range(count)]
            with transaction.atomic():
                note_model.objects.bulk_create(batch)
            done += count
            progress(done)
        return done

    def _text(self) -> str:
        words = self.rng.choices(_WORDS, k=self.rng.randint(4, 40))
        return " ".join(words).capitalize() + "."

    def _analyze(self, models: list[tuple[str, str]]) -> None:
        """VACUUM ANALYZE what was filled: fresh planner statistics and visibility map now,
        rather than autovacuum doing it later in the middle of whatever runs next."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            for app_label, model_name in models:
                cursor.execute(f'VACUUM (ANALYZE) "{apps.get_model(app_label, model_name)._meta.db_table}"')
