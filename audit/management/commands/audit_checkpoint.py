"""Signs the audit log's current Merkle tree: ``manage.py audit_checkpoint``.

Run by the checkpointer (cron, a systemd timer or a compose service; see
docs/audit-verification.md), never by the web processes: it reads the private
key from ``AUDIT_CHECKPOINT_KEY_FILE``. Reads only the entries added since the
latest checkpoint, stores the new checkpoint (append-only) and writes it to
``AUDIT_CHECKPOINT_DIR`` (one file per checkpoint, plus ``latest``). Refuses,
with exit status 1, a table that no longer holds the latest checkpoint.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit import merkle
from audit.checkpoints import CheckpointRefused, audit_checkpoint_sign, read_signer_key, write_checkpoint_files


class Command(BaseCommand):
    help = "Signs a checkpoint of the audit log's Merkle tree; refuses a table inconsistent with the latest one."

    def add_arguments(self, parser):
        parser.add_argument(
            "--full",
            action="store_true",
            help="Also recompute the root of every entry the latest checkpoint covers (O(n)) before signing.",
        )
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and sign every SECONDS (0: once; the compose service passes AUDIT_CHECKPOINT_SECONDS).",
        )

    def handle(self, *args, **options):
        try:
            signer = read_signer_key(settings.AUDIT_CHECKPOINT_KEY_FILE)
            merkle.parse_signer_key(signer)
        except (OSError, merkle.NoteError) as error:
            raise CommandError(f"No usable checkpoint key (AUDIT_CHECKPOINT_KEY_FILE): {error}") from error
        while True:
            self._sign(signer, full=options["full"], verbosity=options["verbosity"])
            if options["every"] <= 0:
                return
            time.sleep(options["every"])

    def _sign(self, signer: str, *, full: bool, verbosity: int) -> None:
        try:
            result = audit_checkpoint_sign(signer_key=signer, full=full)
        except CheckpointRefused as error:
            raise CommandError(f"Checkpoint REFUSED: {error}") from error
        checkpoint = result.checkpoint
        if settings.AUDIT_CHECKPOINT_DIR:
            write_checkpoint_files(checkpoint, settings.AUDIT_CHECKPOINT_DIR)
        if verbosity >= 1:
            if result.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Checkpoint {checkpoint.tree_size} signed ({result.new_entries:,} new entries), "
                        f"root {checkpoint.root_hash}."
                    )
                )
            else:
                self.stdout.write(f"Nothing new since checkpoint {checkpoint.tree_size}.")
