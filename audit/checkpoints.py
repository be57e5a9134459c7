"""Signed checkpoints of the audit log (AUDIT.md section 10): storing the tree,
signing it, proving with it, and holding the table against it.

The hashing is ``audit/merkle.py``; this module keeps the tree in the
database, append-only:

- ``Checkpoint`` rows, one per signed tree head, each with the tree's right
  edge (``merkle.CompactRange``), so the next checkpoint reads only the entries
  added since (O(new entries)).
- ``MerkleSegment`` rows: the hashes of the leaves and of every 256th level of
  nodes (tiles of 256 hashes), appended by each checkpoint for its new leaves.
  An inclusion or consistency proof reads O(log n) of them; nothing is rebuilt.

``audit_checkpoint_sign`` is the signer's service (``manage.py
audit_checkpoint``); the web processes never call it and never read the key.
"""

import bisect
import os
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit import chain, merkle, selectors
from audit.models import (
    PUBLIC_FIELDS,
    TILE_HEIGHT,
    TILE_WIDTH,
    AuditEntry,
    Checkpoint,
    MerkleSegment,
    entry_document,
)

#: The PostgreSQL advisory lock key that serialises signers ("devlab" + 2).
CHECKPOINT_LOCK_KEY = 0x646576_6C6162_02
#: Segments inserted at a time while signing (each at most 8 KiB of hashes).
SEGMENT_BATCH = 500
_ID = struct.Struct(">q")

REASON_CUT = "the table holds fewer entries than checkpoint {size} covers: the newest entries were cut off"
REASON_ROOT = (
    "the first {size} entries no longer give checkpoint {size}'s root: an entry was changed, removed or inserted"
)
REASON_SIGNATURE = "checkpoint {size} is not validly signed by its own verifier key"
REASON_UNTRUSTED = (
    "checkpoint {size} is signed by a key that is not trusted ({key_id}): see AUDIT_CHECKPOINT_VERIFIER_KEYS"
)


class CheckpointRefused(Exception):
    """The table is not a continuation of the latest checkpoint: signing it would hide that."""


class TreeError(Exception):
    """The stored tree cannot answer (a size no checkpoint covers, or missing hashes)."""


def entry_leaf(row: Mapping) -> bytes:
    """The Merkle leaf hash of an entry, from its public fields (a ``values()`` row)."""
    return merkle.leaf_hash(merkle.leaf_bytes(entry_document(row)))


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size", "-id").first()


def checkpoint_file_name(checkpoint: Checkpoint) -> str:
    kid = checkpoint.verifier_key.split("+")[1]
    return f"{checkpoint.tree_size:012d}-{kid}.checkpoint"


# ---------------------------------------------------------------- reading the stored tree


class TreeStore:
    """Perfect subtrees from stored segments; each tile is read once per instance."""

    def __init__(self):
        self._tiles: dict[tuple[int, int], bytes] = {}

    def _tile(self, level: int, tile: int, needed: int) -> bytes:
        data = self._tiles.get((level, tile))
        if data is None or len(data) < needed * merkle.HASH_SIZE:
            joined = bytearray()
            rows = MerkleSegment.objects.filter(level=level, tile=tile).order_by("start").values_list("start", "hashes")
            for start, hashes in rows:
                if start * merkle.HASH_SIZE != len(joined):
                    raise TreeError(f"the stored segments of tile {level}/{tile} do not join")
                joined += bytes(hashes)
            data = self._tiles[(level, tile)] = bytes(joined)
        if len(data) < needed * merkle.HASH_SIZE:
            raise TreeError(f"tile {level}/{tile} holds {len(data) // merkle.HASH_SIZE} hashes, {needed} needed")
        return data

    def perfect(self, height: int, index: int) -> bytes:
        level, rest = divmod(height, TILE_HEIGHT)
        tile, offset = divmod(index << rest, TILE_WIDTH)
        count = 1 << rest
        data = self._tile(level, tile, offset + count)
        size = merkle.HASH_SIZE
        return merkle.fold_perfect([data[i * size : (i + 1) * size] for i in range(offset, offset + count)])

    def leaf_index(self, entry_id: int) -> int | None:
        """The leaf index of entry ``entry_id`` in the stored tree, or None when it has none."""
        segment = (
            MerkleSegment.objects.filter(level=0, first_entry_id__lte=entry_id)
            .order_by("-first_entry_id")
            .values_list("tile", "start", "entry_ids")
            .first()
        )
        if segment is None:
            return None
        tile, start, packed = segment
        ids = [value for (value,) in _ID.iter_unpack(bytes(packed))]
        position = bisect.bisect_left(ids, entry_id)
        if position == len(ids) or ids[position] != entry_id:
            return None
        return tile * TILE_WIDTH + start + position

    def stored_leaves(self, batch: int = 200) -> Iterator[tuple[int, bytes]]:
        """(entry id, leaf hash) of every stored leaf, in order (keyset pages: no open cursor)."""
        size = merkle.HASH_SIZE
        after = (-1, -1)
        while True:
            page = list(
                MerkleSegment.objects.filter(level=0)
                .filter(Q(tile__gt=after[0]) | Q(tile=after[0], start__gt=after[1]))
                .order_by("tile", "start")
                .values_list("tile", "start", "hashes", "entry_ids")[:batch]
            )
            for tile, start, hashes, packed in page:
                hashes = bytes(hashes)
                for i, (entry_id,) in enumerate(_ID.iter_unpack(bytes(packed))):
                    yield entry_id, hashes[i * size : (i + 1) * size]
                after = (tile, start)
            if len(page) < batch:
                return


def covering_size(tree_size: int) -> Checkpoint:
    """The latest checkpoint, when it covers ``tree_size``; TreeError otherwise."""
    latest = latest_checkpoint()
    if latest is None or tree_size > latest.tree_size:
        covered = latest.tree_size if latest else 0
        raise TreeError(f"no checkpoint covers a tree of {tree_size} entries (the latest covers {covered})")
    return latest


def inclusion_proof(entry_id: int, tree_size: int) -> tuple[int, list[bytes]]:
    """(leaf index, audit path) of entry ``entry_id`` in the tree of ``tree_size`` entries."""
    covering_size(tree_size)
    store = TreeStore()
    index = store.leaf_index(entry_id)
    if index is None or index >= tree_size:
        raise TreeError(f"entry {entry_id} is not in the tree of {tree_size} entries")
    return index, merkle.inclusion_proof(index, tree_size, store.perfect)


def consistency_proof(first: int, second: int) -> list[bytes]:
    covering_size(second)
    if not 0 < first <= second:
        raise TreeError(f"no consistency proof from {first} to {second} entries")
    return merkle.consistency_proof(first, second, TreeStore().perfect)


def right_edge(size: int) -> list[bytes]:
    """The compact range of the first ``size`` leaves, from stored hashes."""
    if size == 0:
        return []
    covering_size(size)
    store = TreeStore()
    return [store.perfect(level, index) for level, index in merkle.CompactRange(size, [b""] * size.bit_count()).edge()]


# ---------------------------------------------------------------- holding the table against a checkpoint


def checkpoint_note_is_valid(checkpoint: Checkpoint) -> bool:
    try:
        body = merkle.open_note(checkpoint.note, checkpoint.verifier_key)
        origin, size, root = merkle.parse_checkpoint(body)
    except merkle.NoteError:
        return False
    return (origin, size, merkle.b64(root)) == (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash)


def trusted_verifier_keys() -> set[str]:
    """The verifier keys a checkpoint may be signed with: ``AUDIT_CHECKPOINT_VERIFIER_KEYS``,
    else the key of the first checkpoint (trust on first use; list every key after a
    rotation)."""
    if settings.AUDIT_CHECKPOINT_VERIFIER_KEYS:
        return {key.strip() for key in settings.AUDIT_CHECKPOINT_VERIFIER_KEYS if key.strip()}
    first = Checkpoint.objects.order_by("id").values_list("verifier_key", flat=True).first()
    return {first} if first else set()


class CheckpointWatch:
    """Follows verify's walk over the rows and recomputes the tree's root at the size of
    every checkpoint up to the latest one: the table must give each signed root (which
    also holds the checkpoints consistent with one another). Each leaf is compared with
    the stored one too, so that a mismatch names its entry."""

    def __init__(self, latest: Checkpoint, columns: Sequence[str]):
        self.latest = latest
        self.columns = columns
        self.tree = merkle.CompactRange()
        self.first_changed_id: int | None = None
        self._problem: str | None = None
        self._stored = TreeStore().stored_leaves()
        # Every checkpoint's (size, root), ascending: a few bytes each.
        self._pending = list(
            Checkpoint.objects.filter(tree_size__lte=latest.tree_size)
            .order_by("-tree_size", "-id")
            .values_list("tree_size", "root_hash")
        )
        while self._pending and self._pending[-1][0] == 0:
            self._check(*self._pending.pop())

    def _check(self, size: int, root_hash: str) -> None:
        if self._problem is None and merkle.b64(self.tree.root()) != root_hash:
            self._problem = REASON_ROOT.format(size=size)

    def rows(self, rows: Iterable[Sequence]) -> Iterator[Sequence]:
        size = self.latest.tree_size
        for values in rows:
            if self.tree.size < size:
                row = dict(zip(self.columns, values, strict=True))
                leaf = entry_leaf(row)
                self.tree.append(leaf)
                if self.first_changed_id is None and next(self._stored, None) != (row["id"], leaf):
                    self.first_changed_id = row["id"]
                while self._pending and self._pending[-1][0] == self.tree.size:
                    self._check(*self._pending.pop())
            yield values

    def problem(self) -> str | None:
        """Why the rows seen do not hold the checkpoints, or None when they do."""
        size = self.latest.tree_size
        if not checkpoint_note_is_valid(self.latest):
            return REASON_SIGNATURE.format(size=size)
        trusted = trusted_verifier_keys()
        if self.latest.verifier_key not in trusted:
            return REASON_UNTRUSTED.format(size=size, key_id=self.latest.verifier_key.rsplit("+", 1)[0])
        if self.tree.size < size:
            return REASON_CUT.format(size=size)
        return self._problem


# ---------------------------------------------------------------- signing


@dataclass(frozen=True)
class SignResult:
    checkpoint: Checkpoint
    created: bool
    new_entries: int


class _SegmentWriter:
    """Collects the hashes of every 8th level as a checkpoint appends leaves, and
    inserts them as segments (one per tile touched) in batches."""

    def __init__(self):
        self.open: dict[tuple[int, int], tuple[int, bytearray, list[int] | None]] = {}
        self.pending: list[MerkleSegment] = []
        self.current_id: int | None = None

    def visit(self, height: int, index: int, value: bytes) -> None:
        if height % TILE_HEIGHT:
            return
        level = height // TILE_HEIGHT
        tile, offset = divmod(index, TILE_WIDTH)
        key = (level, tile)
        segment = self.open.get(key)
        if segment is None:
            segment = self.open[key] = (offset, bytearray(), [] if level == 0 else None)
        segment[1].extend(value)
        if level == 0:
            segment[2].append(self.current_id)
        if offset == TILE_WIDTH - 1:  # the tile is complete: nothing more will join this segment
            self._close(key)

    def _close(self, key: tuple[int, int]) -> None:
        start, hashes, ids = self.open.pop(key)
        level, tile = key
        self.pending.append(
            MerkleSegment(
                level=level,
                tile=tile,
                start=start,
                hashes=bytes(hashes),
                entry_ids=b"".join(_ID.pack(i) for i in ids) if ids is not None else None,
                first_entry_id=ids[0] if ids else None,
            )
        )
        if len(self.pending) >= SEGMENT_BATCH:
            self.flush()

    def flush(self, *, close_all: bool = False) -> None:
        if close_all:
            for key in sorted(self.open):
                self._close(key)
        if self.pending:
            # A plain queryset: the model's manager refuses bulk writes elsewhere.
            QuerySet(model=MerkleSegment).bulk_create(self.pending)
            self.pending = []


def _lock_signers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECKPOINT_LOCK_KEY])


def _check_continuation(previous: Checkpoint, *, full: bool, own_verifier: str) -> str:
    """Refuses (CheckpointRefused) a table that no longer holds ``previous``; returns the
    hash of the last entry it covers (where the chain must go on).

    The default checks cost O(log n) plus one index count: the entries up to the
    last one covered are as many as the checkpoint says (nothing deleted or inserted
    before it), and that last entry is the very leaf that was signed (a rewrite of
    any earlier row, re-chained with the HMAC key, changes it). ``full`` recomputes
    the root of every covered entry as well (O(n)): it also catches a row changed
    without re-chaining, which verify_audit names by its HMAC.
    """
    size = previous.tree_size
    name = f"checkpoint {size} ({previous.origin})"
    if previous.verifier_key == own_verifier and not checkpoint_note_is_valid(previous):
        raise CheckpointRefused(f"{name} is not validly signed by this key: the checkpoint table was altered.")
    edge = merkle.CompactRange.from_bytes(size, bytes(previous.edge))
    if merkle.b64(edge.root()) != previous.root_hash:
        raise CheckpointRefused(f"{name}'s stored right edge does not give its root: the checkpoint table was altered.")
    if size == 0:
        if previous.last_entry_id is not None:
            raise CheckpointRefused(f"{name} is malformed.")
        return chain.GENESIS
    last = AuditEntry.objects.filter(id=previous.last_entry_id).values(*PUBLIC_FIELDS).first()
    if last is None:
        raise CheckpointRefused(
            f"Entry {previous.last_entry_id}, the last one {name} covers, is gone. Run verify_audit."
        )
    count = AuditEntry.objects.filter(id__lte=previous.last_entry_id).count()
    if count != size:
        raise CheckpointRefused(
            f"The table holds {count} entries up to entry {previous.last_entry_id}; {name} covered {size}: "
            "entries were deleted or inserted. Run verify_audit."
        )
    if entry_leaf(last) != TreeStore().perfect(0, size - 1):
        raise CheckpointRefused(
            f"Entry {last['id']}, the last one {name} covers, is not the entry that was signed: the chain was "
            "rewritten. Run verify_audit."
        )
    if full:
        tree = merkle.CompactRange()
        rows = AuditEntry.objects.filter(id__lte=previous.last_entry_id).order_by("id").values(*PUBLIC_FIELDS)
        for row in selectors.stream(rows, chunk_size=5000):
            tree.append(entry_leaf(row))
        if merkle.b64(tree.root()) != previous.root_hash:
            raise CheckpointRefused(f"The first {size} entries no longer give {name}'s root. Run verify_audit.")
    return last["hash"]


def audit_checkpoint_sign(
    *, signer_key: str, full: bool = False, progress: Callable[[int], None] | None = None
) -> SignResult:
    """Signs the current tree (AUDIT.md section 10) and stores the checkpoint.

    Extends the latest checkpoint's tree with the entries added since: reads only
    them, checks that they continue the chain (each links to its predecessor and
    carries a valid HMAC) and that the table still holds the latest checkpoint,
    and appends their hashes as segments. Refuses (``CheckpointRefused``) when
    anything does not hold. Returns the latest checkpoint unchanged when there is
    nothing new to sign with the same key.
    """
    from audit.services import verification_keys  # one place knows the HMAC keys

    origin, private = merkle.parse_signer_key(signer_key)
    verifier = merkle.verifier_key(origin, merkle.public_key_of(private))
    keys = verification_keys()
    with transaction.atomic():
        _lock_signers()
        previous = latest_checkpoint()
        if previous is None:
            tree, last_id, prev_hash = merkle.CompactRange(), None, chain.GENESIS
        else:
            prev_hash = _check_continuation(previous, full=full, own_verifier=verifier)
            tree = merkle.CompactRange.from_bytes(previous.tree_size, bytes(previous.edge))
            last_id = previous.last_entry_id
        rows = AuditEntry.objects.order_by("id").values_list(*PUBLIC_FIELDS)
        if last_id is not None:
            rows = rows.filter(id__gt=last_id)
        writer = _SegmentWriter()
        new = 0
        stream = selectors.stream(rows, chunk_size=5000)
        with closing(stream):
            for values in stream:
                row = dict(zip(PUBLIC_FIELDS, values, strict=True))
                if row["prev_hash"] != prev_hash:
                    raise CheckpointRefused(
                        f"Entry {row['id']} does not link to the entry before it: a row was deleted or inserted. "
                        "Run verify_audit."
                    )
                if not any(_hmac_ok(key, row) for key in keys):
                    raise CheckpointRefused(f"Entry {row['id']} does not carry a valid HMAC. Run verify_audit.")
                prev_hash = row["hash"]
                writer.current_id = last_id = row["id"]
                tree.append(entry_leaf(row), writer.visit)
                new += 1
                if progress is not None and new % 100_000 == 0:
                    progress(new)
        if previous is not None and not new and previous.origin == origin and previous.verifier_key == verifier:
            return SignResult(checkpoint=previous, created=False, new_entries=0)
        writer.flush(close_all=True)
        root = tree.root()
        note = merkle.sign_note(merkle.checkpoint_body(origin, tree.size, root), origin, private)
        checkpoint = Checkpoint(
            created_at=timezone.now(),
            origin=origin,
            tree_size=tree.size,
            root_hash=merkle.b64(root),
            last_entry_id=last_id,
            edge=tree.to_bytes(),
            note=note,
            verifier_key=verifier,
        )
        checkpoint.save(force_insert=True)
    return SignResult(checkpoint=checkpoint, created=True, new_entries=new)


def _hmac_ok(key: bytes, row: Mapping) -> bool:
    try:
        return chain.hash_matches(key, row["prev_hash"], row, row["hash"])
    except (ValueError, TypeError):
        return False


def write_checkpoint_files(checkpoint: Checkpoint, directory: str | os.PathLike) -> Path:
    """Writes the signed note as its own file and as ``latest`` (each replaced atomically)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / checkpoint_file_name(checkpoint)
    for target in (path, folder / "latest"):
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False, newline="") as handle:
            handle.write(checkpoint.note)
        os.replace(handle.name, target)
        os.chmod(target, 0o644)
    return path


def read_signer_key(path: str | os.PathLike) -> str:
    if not path:
        raise merkle.NoteError("AUDIT_CHECKPOINT_KEY_FILE is not set")
    return Path(path).read_text(encoding="utf-8")


def default_key_file() -> str:
    return settings.AUDIT_CHECKPOINT_KEY_FILE
