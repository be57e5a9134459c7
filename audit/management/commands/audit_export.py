"""Exports audit entries as CSV or JSON Lines: ``manage.py audit_export --format csv|jsonl [filters] [--output FILE]``.

The same file as ``GET /api/audit/logs/export/`` (audit/export.py writes
both): the entries matching the API's filters, oldest first, streamed through
a server-side cursor so memory stays flat at any size, and with no request
timeout to cut it short. Without ``--output`` the export goes to stdout. With
it, the rows go to a new file (mode 0600: the export holds usernames and IP
addresses) in the same directory, renamed to FILE only once complete, so FILE
is never a cut-off export. On a terminal a progress line (rows, rate, ETA)
goes to stderr; in scripts nothing but the export and, with ``--output``, a
one-line summary.
"""

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator

from django.core.management.base import BaseCommand, CommandError

from audit import export
from audit.progress import Progress, row_total
from audit.serializers import EXPORT_FORMATS

FILTERS = {
    "action": "only entries of this action (e.g. login_failed)",
    "actor": "only entries by this user id",
    "since": "entries at or after this ISO 8601 time (UTC when no offset is given)",
    "until": "entries before this ISO 8601 time (UTC when no offset is given)",
    "ip": "only entries from this client IP address",
}


class Command(BaseCommand):
    help = "Writes the audit entries matching the API's filters as CSV or JSON Lines, oldest first, to stdout or FILE."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=EXPORT_FORMATS, required=True, help="csv or jsonl.")
        for name, text in FILTERS.items():
            parser.add_argument(f"--{name}", help=f"Filter: {text}.")
        parser.add_argument("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args, **options):
        filters = {name: options[name] for name in FILTERS if options[name] is not None}
        try:
            queryset = export.export_queryset(filters)
        except export.ExportFilterError as error:
            problems = "; ".join(f"--{name}: {' '.join(messages)}" for name, messages in error.errors.items())
            raise CommandError(f"Invalid filter: {problems}") from None
        progress = Progress.for_command(self, options["verbosity"], lambda: row_total(queryset))
        counter = _Counter(progress)
        documents = export.export_documents(queryset)
        chunks = export.batched(export.LINES[options["format"]](counter.count(documents)))
        output = options["output"]
        try:
            if output:
                _write_file(output, chunks)
            else:
                self._write_stdout(chunks)
        finally:
            # Ends the read (its transaction and cursor) now, also when the export
            # stopped early, not whenever the generators are collected.
            documents.close()
        progress.finish()
        if output and options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Exported {counter.rows:,} audit entries to {output}."))

    def _write_stdout(self, chunks: Iterable[str]) -> None:
        try:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            self.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (``audit_export ... | head``): stop reading the
            # table and say so, without a traceback at exit's last flush either.
            _silence_stdout()
            raise CommandError("The output was closed before the export ended.") from None


class _Counter:
    """Counts the documents going by and tells the progress line."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.rows = 0

    def count(self, documents: Iterable[dict]) -> Iterator[dict]:
        for document in documents:
            yield document
            self.rows += 1
            self.progress.update(self.rows)


def _silence_stdout() -> None:
    """Points the closed stdout at /dev/null, so that Python's flush at exit finds no broken pipe."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _write_file(path: str, chunks: Iterable[str]) -> None:
    """Writes to a new 0600 file next to ``path`` and renames it to ``path`` once complete."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, partial = tempfile.mkstemp(prefix=".audit-export-", suffix=".partial", dir=directory)
    except OSError as error:
        raise CommandError(f"Cannot write to {path}: {error.strerror}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(partial, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        if isinstance(error, OSError):
            raise CommandError(f"Cannot write to {path}: {error.strerror or error}.") from None
        raise
