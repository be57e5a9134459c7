"""manage.py seed_demo: bulk demo data whose audit chain still verifies."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from audit.services import audit_verify
from notes.models import Note

pytestmark = pytest.mark.django_db

User = get_user_model()


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", force=True, stdout=out, **options)
    return out.getvalue()


def test_it_adds_users_and_audit_rows():
    seed(users=3, notes_per_user=0, audit_rows=25, password="demo pass 123")
    assert sorted(User.objects.values_list("username", flat=True)) == ["demo1", "demo2", "demo3"]
    assert AuditEntry.objects.count() == 25


def test_each_new_user_gets_the_given_number_of_notes():
    seed(users=3, notes_per_user=4, audit_rows=0)
    owners = Note.objects.values_list("owner__username", flat=True)
    assert sorted(owners) == sorted(["demo1", "demo2", "demo3"] * 4)
    assert all(note.text for note in Note.objects.all())


def test_the_audit_chain_it_writes_verifies():
    seed(users=2, notes_per_user=0, audit_rows=40)
    result = audit_verify()
    assert result.ok
    assert result.checked == 40


def test_demo_users_log_in_with_the_given_password():
    seed(users=2, notes_per_user=0, audit_rows=0, password="demo pass 123")
    assert all(user.check_password("demo pass 123") for user in User.objects.all())


def test_a_second_run_adds_users_after_the_existing_ones_and_continues_the_chain():
    seed(users=2, notes_per_user=0, audit_rows=5)
    seed(users=2, notes_per_user=0, audit_rows=5)
    assert sorted(User.objects.values_list("username", flat=True)) == ["demo1", "demo2", "demo3", "demo4"]
    assert audit_verify().checked == 10


def test_it_reports_progress_and_a_summary():
    output = seed(users=2, notes_per_user=3, audit_rows=10)
    assert "users: 2/2 (100%)" in output
    assert "notes: 6/6 (100%)" in output
    assert "audit rows: 10/10 (100%)" in output
    assert "Added 2 users, 6 notes and 10 audit rows" in output


def test_it_refuses_to_run_without_debug_or_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", users=1, stdout=StringIO())
    assert not User.objects.exists()


def test_a_dry_run_writes_nothing():
    output = seed(users=5, notes_per_user=5, audit_rows=5, dry_run=True)
    assert "Would add 5 users, 25 notes and 5 audit rows" in output
    assert not User.objects.exists()
    assert not AuditEntry.objects.exists()


def test_negative_counts_are_refused():
    with pytest.raises(CommandError, match="negative"):
        seed(users=-1)
