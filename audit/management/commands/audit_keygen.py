"""Creates the audit log's checkpoint signing key: ``manage.py audit_keygen --out FILE``.

The key file (mode 0600) holds ``PRIVATE+KEY+<origin>+<key id>+<key>`` for the
origin ``AUDIT_LOG_ORIGIN`` (or ``--origin``); the verifier key, which auditors
are given, is printed on stdout. An existing file is never overwritten.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit import merkle


class Command(BaseCommand):
    help = "Writes a new Ed25519 checkpoint signing key (mode 0600) and prints its verifier key."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="The private key file to create (must not exist).")
        parser.add_argument("--origin", default=None, help="The log's origin (default: AUDIT_LOG_ORIGIN).")

    def handle(self, *args, **options):
        origin = options["origin"] or settings.AUDIT_LOG_ORIGIN
        try:
            signer, verifier = merkle.new_signer_key(origin)
        except merkle.NoteError as error:
            raise CommandError(str(error)) from error
        try:
            # O_EXCL: never replace a key; 0o600 from the start, not chmod after writing.
            fd = os.open(options["out"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as error:
            raise CommandError(f"{options['out']} exists; a checkpoint key is never overwritten.") from error
        except OSError as error:
            raise CommandError(f"Cannot create {options['out']}: {error.strerror}.") from error
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(signer + "\n")
        os.chmod(options["out"], 0o600)  # whatever the umask
        self.stdout.write(verifier)
