"""The evidence bundle (AUDIT.md section 10): ``audit_bundle_write``.

A bundle is what an auditor needs to check the audit log offline with a
public key and ``verify_bundle.py`` alone:

- ``entries.jsonl``: the entries of the bundle's range, one JSONL export line
  each (``audit.models.entry_document``, as the export writes it);
- ``checkpoints/``: every signed checkpoint of the range, one file each;
- ``verifier-keys.txt``: the keys the checkpoints may be signed with (the
  trusted ones, old keys after a rotation included);
- ``manifest.json``: where the range starts (``first_leaf``, the right edge of
  the tree before it and the hash of the entry before it) and the consistency
  proofs between consecutive checkpoints;
- ``verify_bundle.py`` and ``README.txt``.

The whole log by default; ``since``/``until`` narrow it to the checkpoints
covering a period: from the last checkpoint before ``since`` to the first one
after ``until``. The entries are streamed (memory flat in their number); a
path ending in ``.zip`` is written as a zip archive.
"""

import io
import itertools
import json
import shutil
import zipfile
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from audit import merkle, selectors
from audit.checkpoints import (
    TreeError,
    checkpoint_file_name,
    consistency_proof,
    latest_checkpoint,
    right_edge,
    trusted_verifier_keys,
)
from audit.models import PUBLIC_FIELDS, AuditEntry, Checkpoint, entry_document

VERIFIER = Path(__file__).with_name("verify_bundle.py")
README = """DevLab audit evidence bundle
============================

Check it with Python 3.11+ and the 'cryptography' package only:

    python3 -m pip install cryptography
    python3 verify_bundle.py . --key '<the verifier key you were given>'

verify_bundle.py checks every checkpoint's signature, recomputes every Merkle
root from entries.jsonl, checks each entry's link to the one before it and the
consistency proofs, prints what it checked and the first problem, and exits 0
only when everything holds. verifier-keys.txt lists the keys the bundle says
it was signed with: trust a key only if it reached you by another channel.
See docs/audit-verification.md in DevLab.
"""


@dataclass(frozen=True)
class BundleResult:
    first_leaf: int
    tree_size: int
    checkpoints: int
    entries: int


class BundleError(Exception):
    """Nothing to bundle, or a period no checkpoint covers."""


def _range(checkpoints: list[Checkpoint], since: datetime | None, until: datetime | None) -> tuple[int, int]:
    """(first leaf, last tree size) of the bundle: checkpoint sizes around the period."""
    sizes = sorted({c.tree_size for c in checkpoints})
    first, last = 0, sizes[-1]
    if since is not None:
        first_id = AuditEntry.objects.filter(created_at__gte=since).order_by("id").values_list("id", flat=True).first()
        start = AuditEntry.objects.filter(id__lt=first_id).count() if first_id is not None else last
        first = max((s for s in sizes if s <= start), default=0)
    if until is not None:
        last_id = AuditEntry.objects.filter(created_at__lte=until).order_by("-id").values_list("id", flat=True).first()
        end = AuditEntry.objects.filter(id__lte=last_id).count() if last_id is not None else 0
        last = min((s for s in sizes if s >= max(end, first)), default=sizes[-1])
    return first, last


class _Writer:
    """Files into a directory, or into a zip archive."""

    def __init__(self, out: Path, stack: ExitStack):
        self.zip = (
            stack.enter_context(zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)) if out.suffix == ".zip" else None
        )
        self.root = out
        if self.zip is None:
            out.mkdir(parents=True, exist_ok=True)
            (out / "checkpoints").mkdir(exist_ok=True)

    def open(self, name: str):
        if self.zip is not None:
            return io.TextIOWrapper(self.zip.open(name, "w", force_zip64=True), encoding="utf-8", newline="")
        return (self.root / name).open("w", encoding="utf-8", newline="")

    def text(self, name: str, text: str) -> None:
        with self.open(name) as handle:
            handle.write(text)

    def copy(self, source: Path, name: str) -> None:
        if self.zip is not None:
            self.zip.write(source, name)
        else:
            shutil.copyfile(source, self.root / name)


#: Entries between two calls of ``audit_bundle_write``'s ``progress`` callback.
PROGRESS_EVERY = 1000


def audit_bundle_write(
    out: str | Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BundleResult:
    """Writes the evidence bundle for the whole log, or for the checkpoints covering a period."""
    latest = latest_checkpoint()
    if latest is None:
        raise BundleError("No checkpoint has been signed yet: run manage.py audit_checkpoint first.")
    checkpoints = list(Checkpoint.objects.filter(tree_size__lte=latest.tree_size).order_by("tree_size", "id"))
    first, last = _range(checkpoints, since, until)
    included = [c for c in checkpoints if first <= c.tree_size <= last]
    sizes = sorted({c.tree_size for c in included})
    try:
        edge = right_edge(first)
        proofs = [
            {"first": a, "second": b, "proof": [merkle.b64(h) for h in consistency_proof(a, b)]}
            for a, b in itertools.pairwise(sizes)
            if a > 0
        ]
    except TreeError as error:
        raise BundleError(str(error)) from error
    start_after = next((c.last_entry_id for c in included if c.tree_size == first), None) if first else None
    start_prev_hash = (
        AuditEntry.objects.filter(id=start_after).values_list("hash", flat=True).first() if start_after else None
    )
    manifest = {
        "format": "devlab-audit-bundle/1",
        "created_at": timezone.now().isoformat(),
        "origin": latest.origin,
        "first_leaf": first,
        "tree_size": last,
        "start_edge": [merkle.b64(h) for h in edge],
        "start_prev_hash": start_prev_hash,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "consistency": proofs,
    }
    rows = AuditEntry.objects.order_by("id").values(*PUBLIC_FIELDS)
    if start_after is not None:
        rows = rows.filter(id__gt=start_after)
    written = 0
    with ExitStack() as stack:
        writer = _Writer(Path(out), stack)
        with writer.open("entries.jsonl") as handle:
            stream = selectors.stream(rows, chunk_size=5000)
            with closing(stream):
                for row in stream:
                    if written == last - first:
                        break
                    handle.write(json.dumps(entry_document(row), ensure_ascii=False) + "\n")
                    written += 1
                    if progress is not None and written % PROGRESS_EVERY == 0:
                        progress(written, last - first)
            if progress is not None:
                progress(written, last - first)
        for checkpoint in included:
            writer.text(f"checkpoints/{checkpoint_file_name(checkpoint)}", checkpoint.note)
        keys = trusted_verifier_keys()
        writer.text("verifier-keys.txt", "".join(f"{key}\n" for key in sorted(keys)))
        writer.text("manifest.json", json.dumps(manifest, indent=2) + "\n")
        writer.text("README.txt", README)
        writer.copy(VERIFIER, "verify_bundle.py")
    return BundleResult(first_leaf=first, tree_size=last, checkpoints=len(included), entries=written)
