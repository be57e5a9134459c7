"""AUDIT.md 10, offline: audit_bundle and the standalone verify_bundle.py."""

import ast
import json
import re
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import audit
from audit import merkle
from audit.bundle import audit_bundle_write
from audit.checkpoints import audit_checkpoint_sign
from audit.models import Action
from audit.services import audit_record
from tests.audit import checkpointing as cp
from tests.audit.bundle_runner import run_python, run_verifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(tmp_path):
    return cp.make_key(tmp_path / "k")


@pytest.fixture
def log(key, user, request_context):
    """Eight entries under two checkpoints (5 and 8)."""
    rows = [audit_record(action=Action.LOGOUT, actor=user, target=user, detail=f"caf\u00e9 {i}") for i in range(5)]
    audit_checkpoint_sign(signer_key=key[0])
    rows += [audit_record(action=Action.LOGOUT, actor=user, target=user, detail="more") for _ in range(3)]
    audit_checkpoint_sign(signer_key=key[0])
    return rows


def test_the_auditors_python_has_cryptography_and_not_django(tmp_path):
    ok = run_python(tmp_path, "-c", "import cryptography.hazmat.primitives.asymmetric.ed25519", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    blocked = run_python(tmp_path, "-c", "import django", cwd=tmp_path)
    assert "No module named 'django'" in blocked.stderr


def test_a_bundle_holds_the_export_every_checkpoint_the_keys_and_the_verifier(log, key, tmp_path):
    out = StringIO()
    call_command("audit_bundle", str(tmp_path / "b"), stdout=out)
    assert "8 entries (leaves 0 to 7), 2 checkpoint(s)" in out.getvalue()
    bundle = tmp_path / "b"
    names = sorted(p.name for p in bundle.iterdir())
    assert names == [
        "README.txt",
        "checkpoints",
        "entries.jsonl",
        "manifest.json",
        "verifier-keys.txt",
        "verify_bundle.py",
    ]
    lines = (bundle / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [row.pk for row in log]
    assert "caf\u00e9" in lines[0]  # as the JSONL export writes it: UTF-8, not \\u escapes
    assert (bundle / "verifier-keys.txt").read_text() == key[1] + "\n"
    assert len(list((bundle / "checkpoints").iterdir())) == 2
    result = run_verifier(bundle, "--key", key[1], workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Entries: 8 checked" in result.stdout
    assert "Signatures: 2 checkpoint(s) validly signed, tree sizes 5 to 8" in result.stdout
    assert "Consistency proofs: 1 verified" in result.stdout
    assert "RESULT: VALID" in result.stdout


def test_the_leaves_are_the_export_lines_canonicalised(log, key, tmp_path):
    audit_bundle_write(tmp_path / "b")
    lines = (tmp_path / "b" / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    leaves = [merkle.leaf_hash(merkle.leaf_bytes(json.loads(line))) for line in lines]
    assert leaves == cp.table_leaves()


def test_the_verifier_defaults_to_its_own_directory_and_warns_about_the_bundles_keys(log, tmp_path):
    audit_bundle_write(tmp_path / "b")
    result = run_python(tmp_path, str(tmp_path / "b" / "verify_bundle.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "WARNING: no --key given" in result.stdout


def test_a_zip_bundle_unpacks_to_a_valid_bundle(log, key, tmp_path):
    call_command("audit_bundle", str(tmp_path / "b.zip"), stdout=StringIO())
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        archive.extractall(tmp_path / "unzipped")
    result = run_verifier(tmp_path / "unzipped", "--key", key[1], workdir=tmp_path)
    assert result.returncode == 0, result.stdout


def _batches(key, user, *sizes):
    rows = []
    for size in sizes:
        rows += [audit_record(action=Action.LOGOUT, actor=user, target=user) for _ in range(size)]
        audit_checkpoint_sign(signer_key=key[0])
    return rows


def test_a_period_bundle_holds_the_checkpoints_around_it_and_the_proofs_tying_them(key, user, tmp_path):
    rows = _batches(key, user, 10, 10, 10)
    result = audit_bundle_write(tmp_path / "p", since=rows[12].created_at, until=rows[15].created_at)
    assert (result.first_leaf, result.tree_size, result.checkpoints, result.entries) == (10, 20, 2, 10)
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert [(p["first"], p["second"]) for p in manifest["consistency"]] == [(10, 20)]
    lines = (tmp_path / "p" / "entries.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [row.pk for row in rows[10:20]]
    verified = run_verifier(tmp_path / "p", "--key", key[1], workdir=tmp_path)
    assert verified.returncode == 0, verified.stdout
    assert "leaves 10 to 19" in verified.stdout


def test_a_period_up_to_now_runs_to_the_latest_checkpoint(key, user, tmp_path):
    rows = _batches(key, user, 3, 4)
    result = audit_bundle_write(tmp_path / "p", since=rows[4].created_at)
    assert (result.first_leaf, result.tree_size, result.entries) == (3, 7, 4)


def test_a_period_bundle_with_a_wrong_start_edge_fails(key, user, tmp_path):
    rows = _batches(key, user, 6, 6)
    audit_bundle_write(tmp_path / "p", since=rows[7].created_at)
    manifest_path = tmp_path / "p" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["first_leaf"] == 6
    manifest["start_edge"][0] = merkle.b64(b"\x00" * 32)
    manifest_path.write_text(json.dumps(manifest))
    result = run_verifier(tmp_path / "p", "--key", key[1], workdir=tmp_path)
    assert result.returncode == 1
    assert "the start edge does not give checkpoint 6's root" in result.stdout


def test_an_altered_checkpoint_file_fails_its_signature(log, key, tmp_path):
    audit_bundle_write(tmp_path / "b")
    path = sorted((tmp_path / "b" / "checkpoints").iterdir())[-1]
    path.write_text(path.read_text().replace("\n8\n", "\n9\n"))
    result = run_verifier(tmp_path / "b", "--key", key[1], workdir=tmp_path)
    assert result.returncode == 1
    assert "does not verify: the checkpoint was altered" in result.stdout


def test_a_bundle_needs_a_checkpoint(tmp_path, db):
    with pytest.raises(CommandError, match="No checkpoint has been signed yet"):
        call_command("audit_bundle", str(tmp_path / "b"))


def test_the_verifier_imports_only_the_standard_library_and_cryptography():
    tree = ast.parse((Path(audit.__file__).parent / "verify_bundle.py").read_text(encoding="utf-8"))
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}


class Terminal(StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_bundle_shows_its_progress_on_stderr(log, tmp_path, monkeypatch):
    monkeypatch.setattr("audit.progress.INTERVAL", 0)
    monkeypatch.setattr("audit.bundle.PROGRESS_EVERY", 1)
    err = Terminal()
    call_command("audit_bundle", str(tmp_path / "b"), stdout=StringIO(), stderr=err)
    lines = err.getvalue().rstrip().split("\r")
    assert re.search(r"^1/\d+ entries \(\d+%\), [\d,]+ entries/s, ETA ", lines[1])
    done = sum(1 for _ in (tmp_path / "b" / "entries.jsonl").open())
    assert lines[-1].startswith(f"{done}/{done} entries (100%)")


def test_in_scripts_the_bundle_shows_no_progress(log, tmp_path, monkeypatch):
    monkeypatch.setattr("audit.progress.INTERVAL", 0)
    err = StringIO()
    call_command("audit_bundle", str(tmp_path / "b"), stdout=StringIO(), stderr=err)
    assert err.getvalue() == ""
