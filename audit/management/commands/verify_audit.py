"""Checks the audit chain end to end: ``manage.py verify_audit``.

Exit status 0 with a summary when every row is intact; 1 naming the first row
that was changed, inserted or whose predecessor was deleted. The summary ends
with the head's id and hash: record them elsewhere (a ticket, another system)
to be able to tell later that no newest rows were removed. On a terminal, a
progress line (rows, rate, ETA) goes to stderr while it runs.
"""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEntry
from audit.progress import Progress, row_total
from audit.services import audit_verify

#: Rows between two progress updates (the line itself is redrawn at most twice a second).
PROGRESS_EVERY = 5000


class Command(BaseCommand):
    help = "Re-computes the audit chain and names the first row that breaks it (exit 1), or summarises it (exit 0)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size", type=int, default=5000, help="Rows fetched from the database at a time (default 5000)."
        )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        # On a terminal only: rows checked of the table's estimated size, rate and ETA on stderr.
        progress = Progress.for_command(self, verbosity, lambda: row_total(AuditEntry.objects.all()))
        result = audit_verify(
            chunk_size=options["chunk_size"],
            progress=progress.update if progress.enabled else None,
            progress_every=PROGRESS_EVERY,
        )
        progress.update(result.checked)
        progress.finish()
        if not result.ok:
            where = f"at row {result.first_bad_id}" if result.first_bad_id is not None else "against its checkpoint"
            raise CommandError(f"Audit chain BROKEN {where}: {result.reason} ({result.checked:,} rows examined).")
        head = AuditEntry.objects.order_by("-id").values("id", "hash").first()
        summary = f"Audit chain intact: {result.checked:,} rows checked."
        if head is not None:
            summary += f" Head: row {head['id']}, hash {head['hash']}."
        if result.checkpoint is not None:
            summary += f" The first {result.checkpoint:,} entries give the latest signed checkpoint's root."
        else:
            summary += " No signed checkpoint yet (manage.py audit_checkpoint)."
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(summary))
