#!/usr/bin/env python3
"""Checks a DevLab audit evidence bundle offline: ``python3 verify_bundle.py [BUNDLE_DIR] [--key KEY]``.

Standalone on purpose: the Python standard library and the ``cryptography``
package (Ed25519) are all it needs; it does not import DevLab, and its hashing
is written here again, independently of DevLab's ``audit/merkle.py``, from
the specifications it follows:

- RFC 9162 section 2.1 Merkle tree over SHA-256 (leaf = SHA-256(0x00 || leaf
  bytes), node = SHA-256(0x01 || left || right)), consistency proofs (2.1.4.2);
- a leaf's bytes: the JSONL line's object as
  ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
  in UTF-8;
- C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519, key id =
  SHA-256(name || "\\n" || 0x01 || public key)[:4], verifier keys
  ``<name>+<key id hex>+<base64(0x01 || public key)>``.

What it checks: every checkpoint carries a valid signature by a key it was
given (``--key``, repeatable, or ``--keys FILE``; without them, the bundle's
own ``verifier-keys.txt``, with a warning: compare it with the key you were
handed); each entry links to the one before it (``prev_hash``); the entries
give every checkpoint's root at its size, so the checkpoints are consistent
with each other and with the entries; the bundle's consistency proofs verify.
It prints what it checked and the first problem (with its line in
``entries.jsonl``), and exits 0 only when everything holds (1 otherwise, 2 on
a bundle it cannot read).
"""

import argparse
import base64
import hashlib
import json
import sys
import time
from pathlib import Path

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - the auditor's machine
    sys.exit("verify_bundle.py needs the 'cryptography' package: python3 -m pip install cryptography")

GENESIS = "0" * 64
EM_DASH = "\u2014"


class Problem(Exception):
    """The first thing in the bundle that does not hold."""


# ---------------------------------------------------------------- RFC 9162 hashing


def hash_leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class RightEdge:
    """The perfect-subtree roots of a growing tree, one per set bit of its size."""

    def __init__(self, size, hashes):
        if len(hashes) != bin(size).count("1"):
            raise Problem(
                f"the start edge has {len(hashes)} hashes; a tree of {size} leaves needs {bin(size).count('1')}"
            )
        self.size = size
        self.stack = list(hashes)

    def push(self, leaf):
        position = self.size
        value = leaf
        while position % 2 == 1:
            value = hash_children(self.stack.pop(), value)
            position //= 2
        self.stack.append(value)
        self.size += 1

    def root(self):
        if not self.stack:
            return hashlib.sha256(b"").digest()
        value = self.stack[-1]
        for left in self.stack[-2::-1]:
            value = hash_children(left, value)
        return value


def consistent(size1, size2, root1, root2, proof):
    """RFC 9162 2.1.4.2."""
    if size1 > size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path = [root1, *path]
    fn, sn = size1 - 1, size2 - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = hash_children(c, fr), hash_children(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = hash_children(sr, c)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and fr == root1 and sr == root2


# ---------------------------------------------------------------- signed notes and checkpoints


def decode64(text, what):
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise Problem(f"{what} is not base64") from None


class Verifier:
    def __init__(self, text):
        self.text = text.strip()
        parts = self.text.split("+", 2)
        if len(parts) != 3:
            raise Problem(f"not a verifier key: {self.text[:60]!r}")
        self.name, id_hex, material = parts
        raw = decode64(material, "a verifier key")
        if len(raw) != 33 or raw[0] != 1:
            raise Problem(f"not an Ed25519 verifier key: {self.text[:60]!r}")
        self.public = raw[1:]
        self.key_id = hashlib.sha256(self.name.encode() + b"\n" + raw).digest()[:4]
        if self.key_id.hex() != id_hex:
            raise Problem(f"the verifier key's id does not match its name and key: {self.text[:60]!r}")

    def __str__(self):
        return f"{self.name}+{self.key_id.hex()}"


def open_checkpoint(note, verifiers, label):
    """(origin, size, root, verifier) of a signed checkpoint, signed by one of ``verifiers``."""
    text, blank, signatures = note.rpartition("\n\n")
    if not blank or not signatures.endswith("\n"):
        raise Problem(f"{label}: not a signed note")
    text += "\n"
    signed_by = None
    for line in signatures[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise Problem(f"{label}: not a signature line: {line[:60]!r}")
        name, _, blob = line[2:].rpartition(" ")
        raw = decode64(blob, f"{label}: a signature")
        for verifier in verifiers:
            if verifier.name == name and verifier.key_id == raw[:4]:
                try:
                    Ed25519PublicKey.from_public_bytes(verifier.public).verify(raw[4:], text.encode("utf-8"))
                except InvalidSignature:
                    raise Problem(
                        f"{label}: the signature by {verifier} does not verify: the checkpoint was altered"
                    ) from None
                signed_by = verifier
    if signed_by is None:
        raise Problem(f"{label}: not signed by any key you gave (a checkpoint signed by another key is refused)")
    lines = text.split("\n")
    if len(lines) != 4 or not lines[1].isdigit() or not lines[1].isascii():
        raise Problem(f"{label}: not a tlog-checkpoint body")
    if lines[0] != signed_by.name:
        raise Problem(f"{label}: its origin {lines[0]!r} is not the signing key's name {signed_by.name!r}")
    root = decode64(lines[2], f"{label}: the root")
    if len(root) != 32:
        raise Problem(f"{label}: the root is not 32 bytes")
    return lines[0], int(lines[1]), root, signed_by


# ---------------------------------------------------------------- the bundle


class Report:
    def __init__(self, out):
        self.out = out

    def line(self, text=""):
        print(text, file=self.out, flush=True)


def load_verifiers(args, bundle, report):
    texts = list(args.key or [])
    if args.keys:
        texts += [t for t in Path(args.keys).read_text(encoding="utf-8").splitlines() if t.strip()]
    if not texts:
        own = bundle / "verifier-keys.txt"
        if not own.exists():
            raise Problem("no verifier key: pass --key KEY (the key you were given)")
        texts = [t for t in own.read_text(encoding="utf-8").splitlines() if t.strip()]
        report.line("WARNING: no --key given; using the bundle's own verifier-keys.txt.")
        report.line("         Compare these keys with the ones you were handed over another channel:")
        for text in texts:
            report.line(f"           {text}")
    return [Verifier(text) for text in texts]


def verify(bundle, args, report):
    started = time.monotonic()
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    verifiers = load_verifiers(args, bundle, report)
    report.line(f"Verifier keys: {', '.join(str(v) for v in verifiers)}")

    checkpoints = {}
    for path in sorted((bundle / "checkpoints").glob("*.checkpoint")):
        _, size, root, _ = open_checkpoint(path.read_text(encoding="utf-8"), verifiers, path.name)
        if size in checkpoints and checkpoints[size][0] != root:
            raise Problem(
                f"{path.name}: checkpoints {size} of {checkpoints[size][1]} and {path.name} differ: inconsistent"
            )
        checkpoints.setdefault(size, (root, path.name))
    if not checkpoints:
        raise Problem("the bundle holds no checkpoint")
    sizes = sorted(checkpoints)
    report.line(f"Signatures: {len(checkpoints)} checkpoint(s) validly signed, tree sizes {sizes[0]} to {sizes[-1]}")

    first = int(manifest["first_leaf"])
    edge = RightEdge(first, [decode64(h, "the start edge") for h in manifest.get("start_edge", [])])
    if first and (first not in checkpoints or edge.root() != checkpoints[first][0]):
        raise Problem(f"the start edge does not give checkpoint {first}'s root")

    last_size = sizes[-1]
    if first > last_size:
        raise Problem("the bundle starts after its last checkpoint")
    pending = [s for s in sizes if s > first]
    prev_hash = manifest.get("start_prev_hash") or GENESIS
    matched = first
    entries = bundle / "entries.jsonl"
    first_time = last_time = None
    line_number = 0
    with entries.open("rb") as handle:
        for line_number, raw_line in enumerate(handle, 1):
            try:
                document = json.loads(raw_line)
            except ValueError:
                raise Problem(f"entries.jsonl line {line_number}: not JSON") from None
            if not isinstance(document, dict) or not {"id", "prev_hash", "hash", "created_at"} <= document.keys():
                raise Problem(f"entries.jsonl line {line_number}: not an audit entry")
            if document["prev_hash"] != prev_hash:
                raise Problem(
                    f"entries.jsonl line {line_number} (entry {document['id']}): prev_hash does not match the hash of "
                    "the entry before it: an entry was deleted, inserted or moved before this one"
                )
            prev_hash = document["hash"]
            first_time = first_time or document["created_at"]
            last_time = document["created_at"]
            data = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            edge.push(hash_leaf(data))
            if pending and edge.size == pending[0]:
                size = pending.pop(0)
                if edge.root() != checkpoints[size][0]:
                    raise Problem(
                        f"checkpoint {size} ({checkpoints[size][1]}): entries.jsonl lines {matched - first + 1} to "
                        f"{line_number} do not give its root: an entry among them was changed (or the checkpoint "
                        "is not consistent with the earlier ones)"
                    )
                matched = size
            if edge.size == last_size:
                if handle.readline():
                    raise Problem(f"entries.jsonl line {line_number + 1}: entries beyond the last checkpoint")
                break
    if edge.size < last_size:
        raise Problem(
            f"entries.jsonl ends after {line_number} lines (tree size {edge.size}); checkpoint {last_size} covers "
            f"{last_size}: entries were cut off"
        )
    checked = edge.size - first
    report.line(f"Entries: {checked:,} checked (leaves {first} to {edge.size - 1}), each linked to the one before it")
    if first_time:
        report.line(f"Period: {first_time} to {last_time}")

    proofs = manifest.get("consistency", [])
    for item in proofs:
        a, b = int(item["first"]), int(item["second"])
        if a not in checkpoints or b not in checkpoints:
            raise Problem(f"a consistency proof from {a} to {b} names a checkpoint the bundle lacks")
        proof = [decode64(h, "a consistency proof") for h in item["proof"]]
        if not consistent(a, b, checkpoints[a][0], checkpoints[b][0], proof):
            raise Problem(f"checkpoints {a} and {b} are not consistent: the consistency proof fails")
    report.line(f"Consistency proofs: {len(proofs)} verified")
    elapsed = max(time.monotonic() - started, 1e-6)
    report.line(f"Rate: {checked / elapsed:,.0f} entries/s ({elapsed:.1f} s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verifies a DevLab audit evidence bundle offline.")
    parser.add_argument("bundle", nargs="?", default=str(Path(__file__).resolve().parent), help="the bundle directory")
    parser.add_argument("--key", action="append", help="a verifier key you were given (repeatable)")
    parser.add_argument("--keys", help="a file of verifier keys, one a line")
    args = parser.parse_args(argv)
    bundle = Path(args.bundle)
    report = Report(sys.stdout)
    report.line("DevLab audit evidence bundle")
    report.line(f"Bundle: {bundle.resolve()}")
    try:
        verify(bundle, args, report)
    except Problem as problem:
        report.line(f"FIRST PROBLEM: {problem}")
        report.line("RESULT: INVALID")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.line(f"Cannot read the bundle: {error}")
        report.line("RESULT: INVALID")
        return 2
    report.line("RESULT: VALID: every signature, root, link and consistency proof holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
