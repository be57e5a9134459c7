"""The tamper matrix (issue #15): each attack is caught by verify_audit, by
/api/audit/verify/ and by verify_bundle.py run as the auditor runs it.

The log: six entries with a gap in the ids after the third (as a rolled-back
insert leaves), signed as checkpoint 6. Each scenario then does what an insider
with database rights (and, where said, the HMAC key or a signing key) would.
"""

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from audit import merkle
from audit.bundle import audit_bundle_write
from audit.checkpoints import audit_checkpoint_sign, latest_checkpoint
from audit.models import Action, Checkpoint
from audit.services import audit_record
from tests.audit import checkpointing as cp
from tests.audit.bundle_runner import run_verifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(tmp_path):
    return cp.make_key(tmp_path / "k")


@pytest.fixture
def log(key, user, request_context):
    rows = [audit_record(action=Action.LOGOUT, actor=user, target=user, detail=f"row {i}") for i in range(3)]
    cp.skip_an_id()
    rows += [audit_record(action=Action.LOGOUT, actor=user, target=user, detail=f"row {i}") for i in range(3, 6)]
    audit_checkpoint_sign(signer_key=key[0])
    return rows


def _edited_row(rows, **_):
    cp.edit_row(rows[2].pk)
    return {"row": rows[2].pk, "bundle": "entries.jsonl lines 1 to 6 do not give its root"}


def _deleted_middle_row(rows, **_):
    cp.delete_row(rows[2].pk)
    return {"row": rows[3].pk, "bundle": f"line 3 (entry {rows[3].pk}): prev_hash does not match"}


def _rows_cut_off_the_end(rows, **_):
    cp.cut_off_after(rows[3].pk)
    return {"checkpoint": "fewer entries than checkpoint 6", "bundle": "checkpoint 6 covers 6: entries were cut off"}


def _two_rows_swapped(rows, **_):
    cp.swap_rows(rows[1].pk, rows[2].pk)
    return {"row": rows[1].pk, "bundle": f"line 2 (entry {rows[1].pk}): prev_hash does not match"}


def _forged_row_inserted(rows, **_):
    cp.insert_forged(rows[2].pk + 1, "c" * 64)
    return {"row": rows[2].pk + 1, "bundle": f"line 4 (entry {rows[2].pk + 1}): prev_hash does not match"}


def _chain_resigned_after_an_edit(rows, **_):
    cp.edit_and_resign(rows[2].pk)
    return {
        "row": rows[2].pk,
        "checkpoint": "no longer give checkpoint 6's root",
        "bundle": "entries.jsonl lines 1 to 6 do not give its root",
    }


def _checkpoint_by_another_key(rows, user, tmp_path, **_):
    audit_record(action=Action.LOGOUT, actor=user, target=user)
    other, _ = cp.make_key(tmp_path / "other.key")
    audit_checkpoint_sign(signer_key=other)
    return {"checkpoint": "signed by a key that is not trusted", "bundle": "not signed by any key you gave"}


def _two_inconsistent_checkpoints(rows, key, **_):
    # The key holder signs a second view of the log at size 4: another root.
    origin, private = merkle.parse_signer_key(key[0])
    fork = merkle.root_of([merkle.leaf_hash(b"fork %d" % i) for i in range(4)])
    latest = latest_checkpoint()
    Checkpoint(
        created_at=latest.created_at,
        origin=origin,
        tree_size=4,
        root_hash=merkle.b64(fork),
        last_entry_id=rows[3].pk,
        edge=b"",
        note=merkle.sign_note(merkle.checkpoint_body(origin, 4, fork), origin, private),
        verifier_key=key[1],
    ).save(force_insert=True)
    return {"checkpoint": "no longer give checkpoint 4's root", "bundle": "checkpoint 4 ("}


SCENARIOS = {
    "edited row": _edited_row,
    "deleted middle row": _deleted_middle_row,
    "rows cut off the end": _rows_cut_off_the_end,
    "two rows swapped": _two_rows_swapped,
    "forged row inserted": _forged_row_inserted,
    "chain re-signed with the HMAC key after an edit": _chain_resigned_after_an_edit,
    "checkpoint signed by another key": _checkpoint_by_another_key,
    "two inconsistent checkpoints": _two_inconsistent_checkpoints,
}


def test_the_untouched_log_passes_all_three(log, key, admin_api_client, tmp_path):
    call_command("verify_audit", verbosity=0)
    assert admin_api_client.get("/api/audit/verify/").json()["ok"] is True
    audit_bundle_write(tmp_path / "bundle")
    result = run_verifier(tmp_path / "bundle", "--key", key[1], workdir=tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda name: name.replace(" ", "-"))
def test_tampering_is_caught_by_verify_audit_the_api_and_the_offline_verifier(
    scenario, log, key, user, admin_user, tmp_path, settings
):
    expected = SCENARIOS[scenario](rows=log, key=key, user=user, tmp_path=tmp_path)

    with pytest.raises(CommandError) as caught:
        call_command("verify_audit", verbosity=0)
    message = str(caught.value)
    if "row" in expected:
        assert f"at row {expected['row']}" in message
    if "checkpoint" in expected:
        assert expected["checkpoint"] in message

    client = APIClient()
    client.force_authenticate(admin_user)
    result = client.get("/api/audit/verify/").json()
    assert result["ok"] is False
    if "row" in expected:
        assert result["first_bad_id"] == expected["row"]
    if "checkpoint" in expected:
        assert expected["checkpoint"] in result["reason"]
    assert result["checkpoint"] >= 4

    audit_bundle_write(tmp_path / "bundle")
    offline = run_verifier(tmp_path / "bundle", "--key", key[1], workdir=tmp_path)
    assert offline.returncode == 1, offline.stdout + offline.stderr
    assert "RESULT: INVALID" in offline.stdout
    assert expected["bundle"] in offline.stdout, offline.stdout
