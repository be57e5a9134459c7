"""seed_audit: synthetic rows that continue the real chain, for benchmarks."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEntry
from audit.services import VerifyResult, audit_record, audit_verify
from demo.services import audit_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_seeded_rows_continue_the_chain_and_verify(user):
    audit_record(action=Action.LOGOUT, actor=user)
    assert audit_seed(rows=23, batch_size=5, seed=1) == 23
    audit_record(action=Action.LOGOUT, actor=user)
    assert audit_verify() == VerifyResult(ok=True, checked=25)


def test_seeded_rows_use_existing_users_as_actors(user):
    audit_seed(rows=50, seed=2)
    actors = set(AuditEntry.objects.exclude(actor_id=None).values_list("actor_id", "actor_username"))
    assert actors == {(user.pk, "alice")}


def test_seeded_rows_are_marked_as_such():
    audit_seed(rows=10, seed=3)
    assert set(AuditEntry.objects.values_list("detail", "user_agent")) == {("seed", "seed_audit")}


def test_the_command_adds_rows_with_progress(debug):
    out = StringIO()
    call_command("seed_audit", "--rows", "20", "--batch-size", "5", stdout=out)
    assert AuditEntry.objects.count() == 20
    assert "10/20 rows (50%)" in out.getvalue()
    assert "Added 20 audit rows" in out.getvalue()
    assert audit_verify().ok


def test_the_command_refuses_without_debug_or_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="can never be deleted"):
        call_command("seed_audit", "--rows", "5", stdout=StringIO())
    assert not AuditEntry.objects.exists()
    call_command("seed_audit", "--rows", "5", "--force", stdout=StringIO())
    assert AuditEntry.objects.count() == 5


def test_a_dry_run_adds_nothing(debug):
    out = StringIO()
    call_command("seed_audit", "--rows", "5", "--dry-run", stdout=out)
    assert "Would add 5" in out.getvalue()
    assert not AuditEntry.objects.exists()


def test_a_row_count_below_one_is_an_error(debug):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_audit", "--rows", "0", stdout=StringIO())
