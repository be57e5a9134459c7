"""manage.py audit_export: the API's export file, filtered, streamed to stdout or a file, with progress."""

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audit import export
from audit.models import PUBLIC_FIELDS, Action
from audit.services import audit_record

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class Terminal(StringIO):
    def isatty(self):
        return True


@pytest.fixture
def entries(user, other_user, request_context):
    rows = [audit_record(action=Action.LOGIN_SUCCESS, actor=user, target=user) for _ in range(3)]
    request_context.ip = "198.51.100.1"
    rows += [audit_record(action=Action.LOGOUT, actor=other_user, target=other_user, detail="ação") for _ in range(2)]
    return rows


def run(*args, stderr=None) -> tuple[str, str]:
    out, err = StringIO(), stderr if stderr is not None else StringIO()
    call_command("audit_export", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_jsonl_on_stdout_is_byte_for_byte_the_apis_export(admin_api_client, entries):
    out, err = run("--format", "jsonl")
    api = b"".join(admin_api_client.get("/api/audit/logs/export/", {"format": "jsonl"}).streaming_content).decode()
    assert out == api
    assert [json.loads(line)["id"] for line in out.splitlines()] == [e.pk for e in entries]
    assert err == ""


def test_csv_on_stdout_is_the_apis_export(admin_api_client, entries):
    out, _ = run("--format", "csv")
    api = b"".join(admin_api_client.get("/api/audit/logs/export/", {"format": "csv"}).streaming_content).decode()
    assert out == api
    assert next(csv.reader(io.StringIO(out))) == list(PUBLIC_FIELDS)


def test_the_apis_filters_apply(entries, other_user):
    out, _ = run("--format", "jsonl", "--ip", "198.51.100.1", "--actor", str(other_user.pk), "--action", "logout")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [entries[3].pk, entries[4].pk]
    since = entries[2].created_at.isoformat()
    out, _ = run("--format", "jsonl", "--since", since, "--until", entries[4].created_at.isoformat())
    assert [json.loads(line)["id"] for line in out.splitlines()] == [e.pk for e in entries[2:4]]


@pytest.mark.parametrize(
    ("option", "value"),
    [("action", "nope"), ("actor", "alice"), ("since", "yesterday"), ("until", ""), ("ip", "999.1.1.1")],
)
def test_a_filter_that_does_not_parse_is_an_error_naming_the_option(entries, option, value):
    with pytest.raises(CommandError, match=f"--{option}: "):
        run("--format", "csv", f"--{option}", value)


def test_an_unknown_format_is_refused(entries):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--format", "xml")


def test_output_goes_to_a_new_private_file_and_a_summary_to_stdout(entries, tmp_path):
    target = tmp_path / "audit.jsonl"
    out, _ = run("--format", "jsonl", "--output", str(target))
    assert [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()] == [
        e.pk for e in entries
    ]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert out == f"Exported 5 audit entries to {target}.\n"
    assert os.listdir(tmp_path) == ["audit.jsonl"]


def test_an_export_that_fails_midway_leaves_no_file_behind(entries, tmp_path, monkeypatch):
    documents = export.export_documents

    def failing(queryset, **kwargs):
        rows = documents(queryset, **kwargs)
        yield next(rows)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(export, "export_documents", failing)
    target = tmp_path / "audit.csv"
    target.write_text("yesterday's complete export")
    with pytest.raises(RuntimeError):
        run("--format", "csv", "--output", str(target))
    # Neither a cut-off file under the name nor a partial one beside it.
    assert target.read_text() == "yesterday's complete export"
    assert os.listdir(tmp_path) == ["audit.csv"]


def test_an_unwritable_output_is_a_clear_error(entries, tmp_path):
    with pytest.raises(CommandError, match="Cannot write to"):
        run("--format", "csv", "--output", str(tmp_path / "missing" / "audit.csv"))


def test_on_a_terminal_progress_goes_to_stderr_and_the_export_stays_clean(entries, monkeypatch):
    monkeypatch.setattr("audit.progress.INTERVAL", 0)
    out, err = run("--format", "jsonl", stderr=Terminal())
    assert len(out.splitlines()) == 5
    assert all(json.loads(line) for line in out.splitlines())
    # While it runs the total is PostgreSQL's estimate (stale statistics of other tests' rows here).
    assert re.search(r"\r1/[\d,]+ rows \(\d+%\), [\d,]+ rows/s, ETA ", err)
    assert err.rstrip().rsplit("\r", 1)[1].startswith("5/5 rows (100%)")


def test_in_scripts_and_at_verbosity_zero_there_is_no_progress(entries, monkeypatch, tmp_path):
    monkeypatch.setattr("audit.progress.INTERVAL", 0)
    _, err = run("--format", "jsonl")
    assert err == ""
    out, err = run("--format", "jsonl", "--verbosity", "0", "--output", str(tmp_path / "a.jsonl"), stderr=Terminal())
    assert (out, err) == ("", "")


def test_an_empty_export_is_a_header_only(db):
    out, _ = run("--format", "csv")
    assert out.splitlines() == [",".join(PUBLIC_FIELDS)]


def _env(tmp_path) -> dict[str, str]:
    return {**os.environ, "DEBUG": "True", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}


def _manage(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_bad_filter_exits_1_with_a_message_and_no_traceback(tmp_path):
    result = _manage(tmp_path, "audit_export", "--format", "csv", "--since", "last week")
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: Invalid filter: --since: ")
    assert "Traceback" not in result.stderr


def test_a_reader_that_stops_early_ends_the_export_without_a_traceback(tmp_path):
    """``audit_export --format jsonl | head -1``: far more rows than a pipe buffer holds."""
    assert _manage(tmp_path, "migrate", "--noinput", "-v", "0").returncode == 0
    assert _manage(tmp_path, "seed_audit", "--rows", "3000", "-v", "0").returncode == 0
    export = subprocess.Popen(
        [sys.executable, "manage.py", "audit_export", "--format", "jsonl"],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert json.loads(export.stdout.readline())["id"] == 1
    export.stdout.close()
    _, stderr = export.communicate(timeout=120)
    assert export.returncode == 1
    assert stderr.decode() == "CommandError: The output was closed before the export ended.\n"
