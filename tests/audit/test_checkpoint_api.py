"""AUDIT.md 10, serving: checkpoints, the verifier key and proofs, admins only."""

import base64

import pytest

from audit import merkle
from audit.checkpoints import audit_checkpoint_sign, latest_checkpoint
from audit.models import Action
from audit.services import audit_record
from tests.audit import checkpointing as cp

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/audit/checkpoints/",
    "/api/audit/checkpoints/latest/",
    "/api/audit/verifier-key/",
    "/api/audit/proofs/inclusion/?id=1&tree_size=1",
    "/api/audit/proofs/consistency/?first=1&second=1",
]


@pytest.fixture
def signed(tmp_path, user, request_context):
    signer, verifier = cp.make_key(tmp_path / "k")
    rows = [audit_record(action=Action.LOGOUT, actor=user, target=user, detail=f"r{i}") for i in range(5)]
    audit_checkpoint_sign(signer_key=signer)
    rows += [audit_record(action=Action.LOGOUT, actor=user, target=user, detail="more") for _ in range(3)]
    audit_checkpoint_sign(signer_key=signer)
    return rows, verifier


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_is_401(api_client, path):
    assert api_client.get(path).status_code == 401


@pytest.mark.parametrize("path", PATHS)
def test_a_non_admin_is_403_and_recorded(user_client, user, path):
    assert user_client.get(path).status_code == 403


def test_the_list_is_newest_first(admin_api_client, signed):
    response = admin_api_client.get("/api/audit/checkpoints/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["tree_size"] for c in results] == [8, 5]
    assert results[0]["note"] == latest_checkpoint().note
    assert results[0]["verifier_key"] == signed[1]


def test_latest_is_the_signed_note_as_text(admin_api_client, signed):
    response = admin_api_client.get("/api/audit/checkpoints/latest/", HTTP_ACCEPT="text/plain")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = merkle.open_note(response.content.decode(), signed[1])
    assert merkle.parse_checkpoint(body)[1] == 8


def test_latest_is_404_before_any_checkpoint(admin_api_client):
    response = admin_api_client.get("/api/audit/checkpoints/latest/", HTTP_ACCEPT="text/plain")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert admin_api_client.get("/api/audit/verifier-key/").status_code == 404


def test_the_verifier_key_is_served_as_text(admin_api_client, signed, settings):
    response = admin_api_client.get("/api/audit/verifier-key/")
    assert (response.status_code, response["Content-Type"]) == (200, "text/plain; charset=utf-8")
    assert response.content.decode() == signed[1] + "\n"
    settings.AUDIT_CHECKPOINT_VERIFIER_KEYS = ["devlab.test/audit+0000+x", signed[1]]
    assert admin_api_client.get("/api/audit/verifier-key/").content.decode().splitlines() == sorted(
        settings.AUDIT_CHECKPOINT_VERIFIER_KEYS
    )


def test_an_inclusion_proof_verifies_against_the_signed_root(admin_api_client, signed):
    rows, verifier = signed
    _, _, root = merkle.parse_checkpoint(merkle.open_note(latest_checkpoint().note, verifier))
    leaves = cp.table_leaves()
    for position, row in enumerate(rows):
        response = admin_api_client.get(f"/api/audit/proofs/inclusion/?id={row.pk}&tree_size=8")
        assert response.status_code == 200
        data = response.json()
        assert (data["leaf_index"], data["tree_size"]) == (position, 8)
        proof = [base64.b64decode(p) for p in data["proof"]]
        assert merkle.verify_inclusion(position, 8, leaves[position], proof, root)


def test_a_consistency_proof_ties_the_two_checkpoints(admin_api_client, signed):
    response = admin_api_client.get("/api/audit/proofs/consistency/?first=5&second=8")
    assert response.status_code == 200
    data = response.json()
    assert (data["first"], data["second"]) == (5, 8)
    leaves = cp.table_leaves()
    proof = [base64.b64decode(p) for p in data["proof"]]
    assert merkle.verify_consistency(5, 8, merkle.root_of(leaves[:5]), merkle.root_of(leaves), proof)


@pytest.mark.parametrize(
    "query",
    [
        "first=6&second=5",
        "first=0&second=5",
        "first=1&second=9",
        "first=x&second=5",
        "first=1",
    ],
)
def test_bad_consistency_queries_are_400(admin_api_client, signed, query):
    response = admin_api_client.get(f"/api/audit/proofs/consistency/?{query}")
    assert response.status_code == 400


def test_an_inclusion_proof_past_the_checkpoint_is_400_and_an_entry_outside_it_404(admin_api_client, signed, user):
    rows, _ = signed
    assert admin_api_client.get(f"/api/audit/proofs/inclusion/?id={rows[0].pk}&tree_size=9").status_code == 400
    assert admin_api_client.get(f"/api/audit/proofs/inclusion/?id={rows[6].pk}&tree_size=5").status_code == 404
    assert admin_api_client.get("/api/audit/proofs/inclusion/?id=999999&tree_size=8").status_code == 404
    assert admin_api_client.get("/api/audit/proofs/inclusion/?id=-1&tree_size=8").status_code == 400


def test_verify_says_which_checkpoint_it_held_the_table_against(admin_api_client, signed):
    assert admin_api_client.get("/api/audit/verify/").json() == {"ok": True, "checked": 8, "checkpoint": 8}


def test_verify_fails_on_rows_cut_off_naming_the_checkpoint(admin_api_client, signed):
    rows, _ = signed
    cp.cut_off_after(rows[5].pk)
    assert admin_api_client.get("/api/audit/verify/").json() == {
        "ok": False,
        "checked": 6,
        "reason": "the table holds fewer entries than checkpoint 8 covers: the newest entries were cut off",
        "checkpoint": 8,
    }
