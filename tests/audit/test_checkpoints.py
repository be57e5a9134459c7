"""AUDIT.md 10: the signer, the stored tree, its proofs, and verify holding the table against checkpoints."""

import os
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import checkpoints, merkle
from audit.checkpoints import CheckpointRefused, TreeStore, audit_checkpoint_sign, latest_checkpoint
from audit.models import Action, AuditEntry, Checkpoint, MerkleSegment
from audit.services import REASON_HASH, REASON_LINK, audit_record, audit_verify
from demo.services import audit_seed
from tests.audit import checkpointing as cp

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(tmp_path, settings):
    path = tmp_path / "checkpoint.key"
    signer, verifier = cp.make_key(path)
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(path)
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    return signer, verifier


@pytest.fixture
def rows(user, request_context):
    return [audit_record(action=Action.LOGOUT, actor=user, target=user, detail=f"row {i}") for i in range(6)]


def _append(user, count):
    return [audit_record(action=Action.LOGOUT, actor=user, target=user, detail="more") for _ in range(count)]


# ---------------------------------------------------------------- keygen


def test_keygen_writes_a_private_key_readable_by_its_owner_only_and_prints_the_verifier(tmp_path, settings):
    settings.AUDIT_LOG_ORIGIN = "devlab.example.com/audit"
    out = StringIO()
    call_command("audit_keygen", "--out", str(tmp_path / "k"), stdout=out)
    mode = stat.S_IMODE(os.stat(tmp_path / "k").st_mode)
    assert mode == 0o600
    origin, private = merkle.parse_signer_key((tmp_path / "k").read_text())
    assert origin == "devlab.example.com/audit"
    assert out.getvalue().strip() == merkle.verifier_key(origin, merkle.public_key_of(private))


def test_keygen_never_overwrites_a_key(tmp_path):
    (tmp_path / "k").write_text("precious")
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("audit_keygen", "--out", str(tmp_path / "k"))
    assert (tmp_path / "k").read_text() == "precious"


# ---------------------------------------------------------------- signing


def test_the_first_checkpoint_signs_the_root_of_the_whole_table(rows, key, tmp_path):
    _, verifier = key
    cp.sign()
    checkpoint = latest_checkpoint()
    assert checkpoint.tree_size == 6
    assert checkpoint.last_entry_id == rows[-1].pk
    body = merkle.open_note(checkpoint.note, verifier)
    assert body == merkle.checkpoint_body("devlab.test/audit", 6, merkle.root_of(cp.table_leaves()))
    assert checkpoint.verifier_key == verifier


def test_each_checkpoint_is_written_to_the_directory_with_latest(rows, key, tmp_path, user):
    cp.sign()
    _append(user, 2)
    cp.sign()
    folder = tmp_path / "checkpoints"
    names = sorted(p.name for p in folder.iterdir())
    kid = key[1].split("+")[1]
    assert names == [f"000000000006-{kid}.checkpoint", f"000000000008-{kid}.checkpoint", "latest"]
    assert (folder / "latest").read_text() == latest_checkpoint().note


def test_a_checkpoint_extends_the_last_one_reading_only_the_new_entries(rows, key, user):
    cp.sign()
    _append(user, 3)
    with CaptureQueriesContext(connection) as queries:
        result = audit_checkpoint_sign(signer_key=key[0])
    assert (result.created, result.new_entries, result.checkpoint.tree_size) == (True, 3, 9)
    assert merkle.b64(merkle.root_of(cp.table_leaves())) == result.checkpoint.root_hash
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "audit_auditentry"' in q["sql"]]
    assert all("WHERE" in sql for sql in reads)  # never the whole table
    assert any(f'"id" > {rows[-1].pk}' in sql for sql in reads)  # the entries after the last one covered


def test_nothing_new_signs_nothing(rows, key):
    cp.sign()
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "Nothing new since checkpoint 6" in out.getvalue()
    assert Checkpoint.objects.count() == 1


def test_an_empty_table_gets_the_empty_tree(key):
    cp.sign()
    assert latest_checkpoint().root_hash == merkle.b64(merkle.EMPTY_ROOT)


def test_without_a_key_the_checkpointer_refuses(rows, settings):
    settings.AUDIT_CHECKPOINT_KEY_FILE = ""
    with pytest.raises(CommandError, match="AUDIT_CHECKPOINT_KEY_FILE"):
        cp.sign()


def test_checkpoints_and_segments_refuse_changes(rows, key):
    cp.sign()
    checkpoint = latest_checkpoint()
    with pytest.raises(Exception, match="cannot be changed"):
        checkpoint.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        MerkleSegment.objects.first().delete()
    with pytest.raises(Exception, match="never changed"):
        Checkpoint.objects.all().delete()


# ---------------------------------------------------------------- the stored tree and its proofs


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 4 hashes: every path through the tile levels shows with a few dozen entries."""
    monkeypatch.setattr(checkpoints, "TILE_HEIGHT", 2)
    monkeypatch.setattr(checkpoints, "TILE_WIDTH", 4)


def test_proofs_from_stored_tiles_match_the_reference_at_every_size(small_tiles, key, db):
    sizes = [1, 3, 4, 5, 16, 17, 37, 64, 70]
    done = 0
    for size in sizes:
        audit_seed(rows=size - done, seed=size)
        done = size
        audit_checkpoint_sign(signer_key=key[0])
    leaves = cp.table_leaves()
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    roots = {n: merkle.root_of(leaves[:n]) for n in sizes}
    store = TreeStore()
    for n in sizes:
        for index in {0, n // 2, n - 1}:
            leaf_index, proof = checkpoints.inclusion_proof(ids[index], n)
            assert leaf_index == index == store.leaf_index(ids[index])
            assert merkle.verify_inclusion(index, n, leaves[index], proof, roots[n])
        for m in sizes:
            if m <= n:
                proof = checkpoints.consistency_proof(m, n)
                assert proof == merkle.consistency_proof(m, n, merkle.perfect_from_leaves(leaves))
                assert merkle.verify_consistency(m, n, roots[m], roots[n], proof)
        assert merkle.CompactRange(n, checkpoints.right_edge(n)).root() == roots[n]


def test_a_proof_beyond_the_latest_checkpoint_is_refused(rows, key, user):
    cp.sign()
    newer = _append(user, 1)[0]
    with pytest.raises(checkpoints.TreeError, match="no checkpoint covers"):
        checkpoints.consistency_proof(6, 7)
    with pytest.raises(checkpoints.TreeError, match="no checkpoint covers"):
        checkpoints.inclusion_proof(rows[0].pk, 7)
    with pytest.raises(checkpoints.TreeError, match="not in the tree"):
        checkpoints.inclusion_proof(newer.pk, 6)
    with pytest.raises(checkpoints.TreeError, match="not in the tree"):
        checkpoints.inclusion_proof(rows[4].pk, 3)


def test_a_proof_reads_a_few_rows_not_the_table(rows, key):
    cp.sign()
    with CaptureQueriesContext(connection) as queries:
        checkpoints.inclusion_proof(rows[2].pk, 6)
    assert len(queries) <= 4
    assert not any("audit_auditentry" in q["sql"] for q in queries.captured_queries)


# ---------------------------------------------------------------- refusing an inconsistent table


def test_the_signer_refuses_rows_cut_off_the_end(rows, key):
    cp.sign()
    cp.cut_off_after(rows[3].pk)
    with pytest.raises(CommandError, match=f"Entry {rows[-1].pk}, the last one checkpoint 6"):
        cp.sign()
    assert Checkpoint.objects.count() == 1


def test_the_signer_refuses_a_chain_resigned_with_the_hmac_key(rows, key):
    cp.sign()
    cp.edit_and_resign(rows[2].pk)
    assert audit_verify().reason != REASON_HASH  # the HMAC chain alone no longer sees it
    with pytest.raises(CheckpointRefused, match="the chain was rewritten"):
        audit_checkpoint_sign(signer_key=key[0])


def test_the_signer_refuses_a_deleted_middle_row(rows, key):
    cp.sign()
    cp.delete_row(rows[2].pk)
    with pytest.raises(CheckpointRefused, match="holds 5 entries up to entry"):
        audit_checkpoint_sign(signer_key=key[0])


def test_the_signer_refuses_a_forged_row_after_the_checkpoint(rows, key):
    cp.sign()
    cp.insert_forged(rows[-1].pk + 5, rows[-1].hash)
    with pytest.raises(CheckpointRefused, match="valid HMAC"):
        audit_checkpoint_sign(signer_key=key[0])


def test_the_signer_refuses_new_rows_that_do_not_link(rows, key, user):
    cp.sign()
    new = _append(user, 2)
    cp.delete_row(new[0].pk)
    with pytest.raises(CheckpointRefused, match=f"Entry {new[1].pk} does not link"):
        audit_checkpoint_sign(signer_key=key[0])


def test_a_full_check_refuses_an_edit_the_quick_one_cannot_see(rows, key, user):
    cp.sign()
    cp.edit_row(rows[2].pk)
    _append(user, 1)
    with pytest.raises(CheckpointRefused, match="no longer give checkpoint 6"):
        audit_checkpoint_sign(signer_key=key[0], full=True)


# ---------------------------------------------------------------- verify holds the table against checkpoints


def test_verify_names_the_checkpoint_it_held_the_table_against(rows, key, user):
    cp.sign()
    _append(user, 2)
    result = audit_verify()
    assert (result.ok, result.checked, result.checkpoint) == (True, 8, 6)


def test_verify_fails_on_rows_cut_off_the_end_naming_the_checkpoint(rows, key):
    cp.sign()
    cp.cut_off_after(rows[3].pk)
    result = audit_verify()
    assert (result.ok, result.checkpoint, result.first_bad_id) == (False, 6, None)
    assert result.reason == checkpoints.REASON_CUT.format(size=6)


def test_verify_fails_on_a_resigned_chain_naming_the_edited_row(rows, key):
    cp.sign()
    cp.edit_and_resign(rows[2].pk)
    result = audit_verify()
    assert (result.ok, result.first_bad_id, result.checkpoint) == (False, rows[2].pk, 6)
    assert result.reason == checkpoints.REASON_ROOT.format(size=6)


def test_verify_fails_on_a_checkpoint_by_an_untrusted_key(rows, key, user, tmp_path, settings):
    cp.sign()
    _append(user, 1)
    cp.make_key(tmp_path / "other.key")
    settings.AUDIT_CHECKPOINT_KEY_FILE = str(tmp_path / "other.key")
    cp.sign()
    result = audit_verify()
    assert (result.ok, result.checkpoint) == (False, 7)
    assert "not trusted" in result.reason
    settings.AUDIT_CHECKPOINT_VERIFIER_KEYS = [key[1], latest_checkpoint().verifier_key]
    assert audit_verify().ok


def test_verify_fails_on_two_inconsistent_checkpoints(rows, key, user):
    cp.sign()
    _append(user, 2)
    cp.sign()
    # The key holder signs a fork at size 6: another root, valid signature.
    origin, private = merkle.parse_signer_key(key[0])
    fork_root = merkle.root_of([merkle.leaf_hash(b"fork")] * 6)
    Checkpoint(
        created_at=latest_checkpoint().created_at,
        origin=origin + "x",
        tree_size=6,
        root_hash=merkle.b64(fork_root),
        last_entry_id=rows[-1].pk,
        edge=b"",
        note=merkle.sign_note(merkle.checkpoint_body(origin, 6, fork_root), origin, private),
        verifier_key=key[1],
    ).save()
    result = audit_verify()
    assert (result.ok, result.reason) == (False, checkpoints.REASON_ROOT.format(size=6))


def test_a_broken_link_is_still_named_by_the_chain_with_the_checkpoint(rows, key):
    cp.sign()
    cp.delete_row(rows[2].pk)
    result = audit_verify()
    assert (result.ok, result.first_bad_id, result.reason, result.checkpoint) == (False, rows[3].pk, REASON_LINK, 6)


def test_verify_audit_command_reports_the_checkpoint(rows, key):
    cp.sign()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "The first 6 entries give the latest signed checkpoint's root." in out.getvalue()
    cp.cut_off_after(rows[3].pk)
    with pytest.raises(CommandError, match="BROKEN against its checkpoint: the table holds fewer entries"):
        call_command("verify_audit", stdout=StringIO())
