"""audit_append_batch: prepared rows appended in bulk, chained like every other row."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Action, AuditEntry
from audit.services import VerifyResult, audit_append_batch, audit_record, audit_verify

pytestmark = pytest.mark.django_db


def _rows(count: int, **extra) -> list[dict]:
    start = timezone.now() - timedelta(days=1)
    return [
        {"created_at": start + timedelta(seconds=i), "action": Action.LOGOUT.value, "actor_username": "x", **extra}
        for i in range(count)
    ]


def test_batched_rows_continue_the_chain_between_real_ones(user):
    audit_record(action=Action.LOGOUT, actor=user)
    done = []
    assert audit_append_batch(_rows(7), batch_size=3, progress=done.append) == 7
    audit_record(action=Action.LOGOUT, actor=user)
    assert done == [3, 6, 7]
    assert audit_verify() == VerifyResult(ok=True, checked=9)


def test_the_rows_keep_their_own_times_and_fields():
    rows = _rows(2, detail="d", ip="10.0.0.1")
    audit_append_batch(rows)
    stored = list(AuditEntry.objects.order_by("id").values("created_at", "detail", "ip"))
    assert stored == [{"created_at": r["created_at"], "detail": "d", "ip": "10.0.0.1"} for r in rows]


@pytest.mark.parametrize("field", ["hash", "prev_hash", "id"])
def test_a_row_cannot_bring_its_own_chain_links_or_id(field):
    with pytest.raises(ValueError, match=field):
        audit_append_batch(_rows(1, **{field: "0" * 64}))
    assert not AuditEntry.objects.exists()


def test_nothing_to_append_appends_nothing():
    assert audit_append_batch([]) == 0
    assert not AuditEntry.objects.exists()


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        audit_append_batch(_rows(1), batch_size=0)
