"""Writes an evidence bundle for auditors: ``manage.py audit_bundle OUT [--since T] [--until T]``.

OUT is a directory, or a zip archive when it ends in ``.zip``: the JSONL
export up to the latest checkpoint, every checkpoint, the verifier keys and
the standalone ``verify_bundle.py`` (AUDIT.md section 10; audit/bundle.py).
``--since``/``--until`` (ISO 8601) hand over one period: the checkpoints
covering it and the consistency proofs that tie them.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.bundle import BundleError, audit_bundle_write
from audit.progress import Progress


def _moment(value: str):
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"Not an ISO 8601 date and time: {value!r}")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.UTC)


class Command(BaseCommand):
    help = "Writes an audit evidence bundle (entries, checkpoints, verifier keys, verify_bundle.py) to OUT."

    def add_arguments(self, parser):
        parser.add_argument("out", help="The bundle directory, or a .zip file.")
        parser.add_argument("--since", type=_moment, help="Start of the period (ISO 8601; UTC when no offset).")
        parser.add_argument("--until", type=_moment, help="End of the period (ISO 8601; UTC when no offset).")

    def handle(self, *args, **options):
        # The total (the entries up to the last checkpoint of the period) is known once the bundle starts.
        progress = Progress.for_command(self, options["verbosity"], lambda: None, unit="entries")

        def report(done: int, total: int) -> None:
            progress.total = total
            progress.update(done)

        try:
            result = audit_bundle_write(options["out"], since=options["since"], until=options["until"], progress=report)
        except BundleError as error:
            raise CommandError(str(error)) from error
        progress.finish()
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Bundle written to {options['out']}: {result.entries:,} entries (leaves {result.first_leaf} to "
                    f"{result.tree_size - 1}), {result.checkpoints} checkpoint(s). "
                    f"Check it with: python3 verify_bundle.py {options['out']} --key KEY"
                )
            )
