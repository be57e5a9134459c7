"""The audit log's Merkle tree and signed checkpoints, as pure functions.

Nothing here touches the database or Django: like ``audit/chain.py``, an
auditor can hold this module against the specifications it follows. (The
evidence bundle's ``verify_bundle.py`` carries its own, independent copy of
the verifying half.)

- The tree is RFC 9162 (RFC 6962) section 2.1 over SHA-256: leaf hash =
  SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right), a tree of
  n > 1 leaves split at the largest power of two smaller than n, the empty
  tree's root SHA-256(""). Inclusion and consistency proofs and their
  verification are sections 2.1.3 and 2.1.4.
- A leaf is an entry's export document (the JSONL export's object) as
  ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
  in UTF-8 (AUDIT.md section 10).
- A checkpoint is a C2SP ``tlog-checkpoint`` body (origin, size, base64 root,
  each line ending in "\\n") signed as a C2SP ``signed-note`` with Ed25519:
  key id = SHA-256(origin || "\\n" || 0x01 || public key)[:4], signature line
  ``— <origin> <base64(key id || signature)>``; the verifier key is
  ``<origin>+<key id hex>+<base64(0x01 || public key)>`` and the signer key
  file holds ``PRIVATE+KEY+<origin>+<key id hex>+<base64(0x01 || seed)>``, the
  formats of golang.org/x/mod/sumdb/note.

Subtrees are addressed as (level, index): the perfect subtree of 2**level
leaves starting at leaf index * 2**level. Proofs read such subtrees through a
``perfect(level, index) -> hash`` function, so that the caller decides where
the hashes come from (stored tiles, or a list in memory).
"""

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
ALG_ED25519 = 1
SIGNATURE_DASH = "\u2014"  # an em dash, as C2SP signed-note writes it
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"

Perfect = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof was asked for sizes or indexes that do not make one."""


class NoteError(ValueError):
    """A signed note, checkpoint or key that does not parse or does not verify."""


# ---------------------------------------------------------------- hashing


def leaf_bytes(document: Mapping) -> bytes:
    """The bytes of a leaf: the entry's export document, canonically serialised."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes by the RFC's recursive definition (small inputs; tests, references)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split_point(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def fold_perfect(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree from its 2**k nodes of one level, left to right."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError("a perfect subtree has a power-of-two number of nodes")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class CompactRange:
    """The right edge of the tree of the first ``size`` leaves: the roots of its
    perfect subtrees, largest (leftmost) first, one per set bit of ``size``.

    It is all that appending needs: ``append`` costs O(1) amortised and the
    root is O(log size) away. ``append`` reports every perfect subtree that a
    leaf completes as ``visit(level, index, hash)`` (the leaf itself at level 0).
    """

    def __init__(self, size: int = 0, nodes: Iterable[bytes] = ()):
        self.size = size
        self.nodes = list(nodes)
        if size < 0 or len(self.nodes) != size.bit_count():
            raise ValueError(f"a compact range of {size} leaves has {size.bit_count()} nodes, not {len(self.nodes)}")

    def append(self, leaf: bytes, visit: Callable[[int, int, bytes], None] | None = None) -> None:
        index, level, value = self.size, 0, leaf
        if visit is not None:
            visit(0, index, value)
        while index & 1:  # a right child: merge with its left sibling, the edge's last node
            value = node_hash(self.nodes.pop(), value)
            index >>= 1
            level += 1
            if visit is not None:
                visit(level, index, value)
        self.nodes.append(value)
        self.size += 1

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        value = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            value = node_hash(left, value)
        return value

    def edge(self) -> list[tuple[int, int]]:
        """(level, index) of each node, in order."""
        result, start = [], 0
        for level in reversed(range(self.size.bit_length())):
            if self.size >> level & 1:
                result.append((level, start >> level))
                start += 1 << level
        return result

    def to_bytes(self) -> bytes:
        return b"".join(self.nodes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> "CompactRange":
        if len(data) % HASH_SIZE:
            raise ValueError("a compact range is a whole number of hashes")
        return cls(size, [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])


def subtree_hash(start: int, end: int, perfect: Perfect) -> bytes:
    """MTH of leaves [start, end), where ``start`` is a multiple of a power of two at
    least ``end - start`` (every subtree the RFC's proofs name is): its perfect
    parts, one per set bit of the width, folded from the right."""
    width = end - start
    if width <= 0:
        raise ProofError("an empty subtree has no hash here")
    parts = []
    for level in reversed(range(width.bit_length())):
        if width >> level & 1:
            parts.append(perfect(level, start >> level))
            start += 1 << level
    value = parts[-1]
    for left in reversed(parts[:-1]):
        value = node_hash(left, value)
    return value


def perfect_from_leaves(leaf_hashes: Sequence[bytes]) -> Perfect:
    """A ``perfect`` function over leaf hashes held in memory (tests, small trees)."""

    def perfect(level: int, index: int) -> bytes:
        return fold_perfect(leaf_hashes[index << level : (index + 1) << level])

    return perfect


# ---------------------------------------------------------------- proofs (RFC 9162 2.1.3.1, 2.1.4.1)


def inclusion_proof(index: int, size: int, perfect: Perfect) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            proof.append(subtree_hash(start + k, end, perfect))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, perfect))
            start += k
    proof.reverse()
    return proof


def consistency_proof(first: int, second: int, perfect: Perfect) -> list[bytes]:
    """PROOF(first, D[0:second]): ties the tree of ``first`` leaves to that of ``second``."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from {first} to {second} leaves")
    proof: list[bytes] = []
    start, end, m, known = 0, second, first, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            proof.append(subtree_hash(start + k, end, perfect))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, perfect))
            start, m, known = start + k, m - k, False
    if not known:
        proof.append(subtree_hash(start, end, perfect))
    proof.reverse()
    return proof


# ---------------------------------------------------------------- verification (RFC 9162 2.1.3.2, 2.1.4.2)


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` leaves with ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn, value = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            value = node_hash(p, value)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            value = node_hash(value, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and value == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree of ``first`` leaves to be a prefix of that of ``second``."""
    if first < 0 or second < first:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# ---------------------------------------------------------------- checkpoints and signed notes


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as error:
        raise NoteError(f"not base64: {text[:40]!r}") from error


def _check_origin(origin: str) -> None:
    if not origin or any(c.isspace() or c == "+" for c in origin) or not origin.isprintable():
        raise NoteError(f"an origin (key name) has no spaces, '+' or control characters: {origin!r}")


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The C2SP tlog-checkpoint body: origin, size, base64 root, each line ending in a newline."""
    _check_origin(origin)
    if len(root) != HASH_SIZE or size < 0:
        raise ValueError("a checkpoint has a 32-byte root and a size of at least 0")
    return f"{origin}\n{size}\n{b64(root)}\n"


def parse_checkpoint(body: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint body; extension lines are not accepted."""
    lines = body.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a checkpoint body has exactly three lines, each ending in a newline")
    origin, size_text, root_text = lines[:3]
    _check_origin(origin)
    if not size_text.isdigit() or not size_text.isascii() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"not a tree size: {size_text!r}")
    root = unb64(root_text)
    if len(root) != HASH_SIZE:
        raise NoteError("a checkpoint root is 32 bytes")
    return origin, int(size_text), root


def key_id(origin: str, public_key: bytes) -> bytes:
    return hashlib.sha256(origin.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key(origin: str, public_key: bytes) -> str:
    _check_origin(origin)
    return f"{origin}+{key_id(origin, public_key).hex()}+{b64(bytes([ALG_ED25519]) + public_key)}"


def parse_verifier_key(text: str) -> tuple[str, bytes, bytes]:
    """(origin, key id, Ed25519 public key) of a verifier key; the key id must match."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <origin>+<key id>+<key>")
    origin, id_hex, material = parts
    _check_origin(origin)
    data = unb64(material)
    if len(id_hex) != 8 or len(data) != 33 or data[0] != ALG_ED25519:
        raise NoteError("not an Ed25519 verifier key")
    public_key = data[1:]
    if key_id(origin, public_key).hex() != id_hex.lower() or id_hex != id_hex.lower():
        raise NoteError("the verifier key's id does not match its origin and key")
    return origin, bytes.fromhex(id_hex), public_key


def new_signer_key(origin: str) -> tuple[str, str]:
    """A fresh (signer key text, verifier key)."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes_raw()
    signer = f"{PRIVATE_KEY_PREFIX}{origin}+{key_id(origin, public).hex()}+{b64(bytes([ALG_ED25519]) + seed)}"
    return signer, verifier_key(origin, public)


def parse_signer_key(text: str) -> tuple[str, Ed25519PrivateKey]:
    """(origin, private key) of a signer key; the key id must match the key."""
    text = text.strip()
    if not text.startswith(PRIVATE_KEY_PREFIX):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    parts = text[len(PRIVATE_KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise NoteError("a signer key is PRIVATE+KEY+<origin>+<key id>+<key>")
    origin, id_hex, material = parts
    _check_origin(origin)
    data = unb64(material)
    if len(data) != 33 or data[0] != ALG_ED25519:
        raise NoteError("not an Ed25519 signer key")
    private = Ed25519PrivateKey.from_private_bytes(data[1:])
    if key_id(origin, private.public_key().public_bytes_raw()).hex() != id_hex:
        raise NoteError("the signer key's id does not match its origin and key")
    return origin, private


def public_key_of(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


def sign_note(text: str, origin: str, private: Ed25519PrivateKey) -> str:
    """``text`` (ending in a newline) signed as a C2SP signed note by ``origin``'s key."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in a newline and has no blank line")
    signature = private.sign(text.encode("utf-8"))
    kid = key_id(origin, public_key_of(private))
    return f"{text}\n{SIGNATURE_DASH} {origin} {b64(kid + signature)}\n"


def open_note(note: str, verifier: str) -> str:
    """The text of ``note`` when it carries a valid signature by ``verifier`` (a verifier key);
    NoteError otherwise. Signatures by other keys are ignored."""
    origin, kid, public_key = parse_verifier_key(verifier)
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("a signed note is text, a blank line, then signature lines")
    text += "\n"
    verified = False
    for line in signatures[:-1].split("\n"):
        prefix = f"{SIGNATURE_DASH} "
        if not line.startswith(prefix):
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, _, blob = line[len(prefix) :].rpartition(" ")
        data = unb64(blob)
        if len(data) < 5:
            raise NoteError("a signature is a key id and a signature")
        if name != origin or data[:4] != kid:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(data[4:], text.encode("utf-8"))
        except InvalidSignature as error:
            raise NoteError(f"the signature by {origin}+{kid.hex()} does not verify") from error
        verified = True
    if not verified:
        raise NoteError(f"no signature by {origin}+{kid.hex()}")
    return text
