"""Guarantee 9: every list filter is an index range scan, whatever the table's size (PostgreSQL)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from demo.services import audit_seed

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


@pytest.fixture
def seeded(user, other_user):
    audit_seed(rows=20_000, seed=7)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")


def _plans(client, params) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        next_page = client.get("/api/audit/logs/", params).json()["next"]
        if next_page:
            client.get(next_page)
    plans = []
    for query in queries.captured_queries:
        if query["sql"].startswith("SELECT") and "audit_auditentry" in query["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert plans
    return plans


def _filters(user) -> dict[str, dict]:
    ip = AuditEntry.objects.values_list("ip", flat=True).first()
    now = timezone.now()
    window = {"since": (now - timedelta(days=200)).isoformat(), "until": (now - timedelta(days=170)).isoformat()}
    return {
        "created_at": {"since": (now - timedelta(days=7)).isoformat()},
        "action": {"action": "token_reuse", **window},
        "actor_id": {"actor": user.pk, **window},
        "ip": {"ip": ip, "since": (now - timedelta(days=300)).isoformat()},
    }


@pytest.mark.parametrize("column", ["created_at", "action", "actor_id", "ip"])
def test_each_filter_with_a_time_window_is_one_backward_index_range_scan_without_a_sort(
    admin_api_client, seeded, user, column
):
    for plan in _plans(admin_api_client, _filters(user)[column]):
        assert "Index Scan Backward" in plan, plan
        assert re.search(rf"Index Cond: .*\b{column}\b", plan), plan
        assert "Sort" not in plan, plan
        assert "Seq Scan" not in plan, plan
