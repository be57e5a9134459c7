"""Guarantee 7, under load: concurrent writers on PostgreSQL never fork the chain."""

import threading

import pytest
from django.db import connection, transaction

from audit.models import Action, AuditEntry
from audit.services import VerifyResult, audit_record, audit_verify
from tests.factories import UserFactory

THREADS = 8
ROWS_EACH = 25


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_append_one_unforked_chain_that_verifies():
    user = UserFactory()
    start = threading.Barrier(THREADS)
    errors: list[Exception] = []

    def writer():
        try:
            start.wait()
            for _ in range(ROWS_EACH):
                with transaction.atomic():  # as a service would: the lock is held until this commits
                    audit_record(action=Action.LOGOUT, actor=user)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert audit_verify() == VerifyResult(ok=True, checked=THREADS * ROWS_EACH)
    prev_hashes = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes)
