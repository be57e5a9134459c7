"""audit/merkle.py against published vectors: RFC 6962 reference hashes, proofs, and Go's signed notes."""

import base64
import json
import random
from pathlib import Path

import pytest

from audit import merkle

VECTORS = json.loads((Path(__file__).parent / "vectors" / "merkle_and_note.json").read_text(encoding="utf-8"))
LEAVES = [merkle.leaf_hash(bytes.fromhex(h)) for h in VECTORS["leaf_inputs_hex"]]
ROOTS = [bytes.fromhex(h) for h in VECTORS["root_hashes_hex"]]
NOTE = VECTORS["signed_note"]
PERFECT = merkle.perfect_from_leaves(LEAVES)


def _b(values):
    return [base64.b64decode(v) for v in values or []]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == VECTORS["empty_root_hex"]
    assert merkle.CompactRange().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_reference_tree_match_rfc6962(size):
    assert merkle.root_of(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize("size", range(1, 9))
def test_a_compact_range_reaches_the_same_roots(size):
    edge = merkle.CompactRange()
    for leaf in LEAVES[:size]:
        edge.append(leaf)
    assert edge.root() == ROOTS[size - 1]
    again = merkle.CompactRange.from_bytes(size, edge.to_bytes())
    assert again.root() == ROOTS[size - 1]


def test_a_compact_range_reports_every_complete_subtree_with_its_reference_hash():
    seen = {}
    edge = merkle.CompactRange()
    for leaf in LEAVES:
        edge.append(leaf, visit=lambda level, index, value: seen.__setitem__((level, index), value))
    expected = {
        (level, index): bytes.fromhex(h)
        for level, row in enumerate(VECTORS["node_hashes_hex"])
        for index, h in enumerate(row)
    }
    assert seen == expected


def test_a_compact_range_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="has 2 nodes"):
        merkle.CompactRange(3, [LEAVES[0]])


@pytest.mark.parametrize("case", VECTORS["reference_inclusion_proofs"], ids=lambda c: f"{c['index']}:{c['size']}")
def test_inclusion_proofs_match_the_reference(case):
    proof = merkle.inclusion_proof(case["index"], case["size"], PERFECT)
    assert [p.hex() for p in proof] == case["proof_hex"]
    assert merkle.verify_inclusion(case["index"], case["size"], LEAVES[case["index"]], proof, ROOTS[case["size"] - 1])


@pytest.mark.parametrize("case", VECTORS["reference_consistency_proofs"], ids=lambda c: f"{c['size1']}:{c['size2']}")
def test_consistency_proofs_match_the_reference(case):
    proof = merkle.consistency_proof(case["size1"], case["size2"], PERFECT)
    assert [p.hex() for p in proof] == case["proof_hex"]
    assert merkle.verify_consistency(
        case["size1"], case["size2"], ROOTS[case["size1"] - 1], ROOTS[case["size2"] - 1], proof
    )


@pytest.mark.parametrize("case", VECTORS["verify_inclusion_happy_paths"], ids=lambda c: str(c["leafIdx"]))
def test_published_inclusion_proofs_verify_and_their_tampered_copies_do_not(case):
    leaf, root, proof = base64.b64decode(case["leafHash"]), base64.b64decode(case["root"]), _b(case["proof"])
    index, size = case["leafIdx"], case["treeSize"]
    assert merkle.verify_inclusion(index, size, leaf, proof, root)
    assert merkle.inclusion_proof(index, size, PERFECT) == proof
    assert not merkle.verify_inclusion(index, size * 2, leaf, proof, root)
    assert not merkle.verify_inclusion(index, size, leaf, [*proof, leaf], root)
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, root)
    if proof:
        assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], root)
        flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
        assert not merkle.verify_inclusion(index, size, leaf, [flipped, *proof[1:]], root)


@pytest.mark.parametrize("case", VECTORS["verify_consistency_happy_paths"], ids=lambda c: f"{c['size1']}:{c['size2']}")
def test_published_consistency_proofs_verify_and_their_tampered_copies_do_not(case):
    first, second = case["size1"], case["size2"]
    root1, root2, proof = base64.b64decode(case["root1"]), base64.b64decode(case["root2"]), _b(case["proof"])
    assert merkle.verify_consistency(first, second, root1, root2, proof)
    if first != second:
        assert merkle.consistency_proof(first, second, PERFECT) == proof
    assert not merkle.verify_consistency(first, second, root2 if root1 != root2 else ROOTS[0][::-1], root2, proof)
    if proof:
        assert not merkle.verify_consistency(first, second, root1, root2, proof[:-1])
        flipped = bytes([proof[-1][0] ^ 1]) + proof[-1][1:]
        assert not merkle.verify_consistency(first, second, root1, root2, [*proof[:-1], flipped])


def test_larger_random_trees_prove_every_leaf_and_every_prefix():
    rng = random.Random(7)
    leaves = [merkle.leaf_hash(rng.randbytes(rng.randrange(40))) for _ in range(70)]
    perfect = merkle.perfect_from_leaves(leaves)
    roots = [merkle.root_of(leaves[:n]) for n in range(71)]
    for size in (1, 2, 3, 31, 32, 33, 64, 70):
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, perfect)
            assert merkle.verify_inclusion(index, size, leaves[index], proof, roots[size])
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, perfect)
            assert merkle.verify_consistency(first, size, roots[first], roots[size], proof)
            if first < size:
                assert not merkle.verify_consistency(
                    first, size, roots[first - 1] if first > 1 else roots[2], roots[size], proof
                )


def test_proofs_outside_the_tree_are_refused():
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(8, 8, PERFECT)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(0, 8, PERFECT)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(5, 4, PERFECT)


def test_a_leaf_is_the_canonical_json_of_the_export_document():
    document = {"id": 2, "detail": "caf\u00e9 \u2014 ok", "actor_id": None, "action": "logout"}
    assert (
        merkle.leaf_bytes(document)
        == '{"action":"logout","actor_id":null,"detail":"caf\u00e9 \u2014 ok","id":2}'.encode()
    )


def test_go_signed_note_vector_is_reproduced_byte_for_byte():
    origin, private = merkle.parse_signer_key(NOTE["signer_key"])
    assert origin == "PeterNeumann"
    assert merkle.verifier_key(origin, merkle.public_key_of(private)) == NOTE["verifier_key"]
    assert merkle.sign_note(NOTE["text"], origin, private) == NOTE["note"]
    assert merkle.open_note(NOTE["note"], NOTE["verifier_key"]) == NOTE["text"]


def test_a_changed_note_or_signature_does_not_open():
    with pytest.raises(merkle.NoteError):
        merkle.open_note(NOTE["note"].replace("cryptography", "cryptographY"), NOTE["verifier_key"])
    other_signer, other_verifier = merkle.new_signer_key("PeterNeumann")
    with pytest.raises(merkle.NoteError, match="no signature"):
        merkle.open_note(NOTE["note"], other_verifier)
    origin, private = merkle.parse_signer_key(other_signer)
    forged = merkle.sign_note(NOTE["text"], origin, private)
    with pytest.raises(merkle.NoteError):
        merkle.open_note(forged, NOTE["verifier_key"])


def test_a_verifier_key_with_a_wrong_id_is_refused():
    key = NOTE["verifier_key"]
    with pytest.raises(merkle.NoteError):
        merkle.parse_verifier_key(key.replace("+c74f20a3+", "+c74f20a4+"))
    with pytest.raises(merkle.NoteError):
        merkle.parse_verifier_key("Other" + key)


def test_a_checkpoint_round_trips_and_malformed_ones_are_refused():
    body = merkle.checkpoint_body("devlab.example.com/audit", 8, ROOTS[7])
    assert body == "devlab.example.com/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    assert merkle.parse_checkpoint(body) == ("devlab.example.com/audit", 8, ROOTS[7])
    for bad in (body[:-1], body + "extra\n", body.replace("\n8\n", "\n08\n"), body.replace("\n8\n", "\n-8\n")):
        with pytest.raises(merkle.NoteError):
            merkle.parse_checkpoint(bad)


def test_keygen_gives_a_signer_whose_notes_open_with_its_verifier():
    signer, verifier = merkle.new_signer_key("devlab.example.com/audit")
    origin, private = merkle.parse_signer_key(signer)
    body = merkle.checkpoint_body(origin, 0, merkle.EMPTY_ROOT)
    assert merkle.open_note(merkle.sign_note(body, origin, private), verifier) == body
