"""Query budgets of the hot endpoints, and index use of the audit reads the benchmark drives.

The untimed half of bench/ (bench/README.md): a request that gains a query
fails here long before it shows in a benchmark. Requests carry a real bearer
token, so JWT authentication (one primary-key query for the user) is counted,
and run in ``transaction=True`` tests, so that no test-transaction savepoint
is counted. Every request also pays its throttles: one counter upsert each
(api/throttling.py).
"""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from audit.models import AuditEntry
from audit.serializers import AuditEntrySerializer
from demo.services import audit_seed

pytestmark = pytest.mark.django_db(transaction=True)

JWT_USER = 1
THROTTLE = 1  # one counter upsert
LOGIN_THROTTLES = 2 * THROTTLE  # anonymous rate and the login scope, both per client IP

# Chain append inside the caller's transaction: the advisory lock with the head hash
# (one round trip), the insert.
AUDIT_ROW = 2
TRANSACTION = 2  # BEGIN and COMMIT

BUDGETS = {
    "audit list": JWT_USER + THROTTLE + 1,  # one page, no COUNT(*)
    # lockout check + user (no lockout reset: nothing had failed) + whether two-factor
    # login is on; then in one transaction: the outstanding refresh token, last_login,
    # and the login_success row.
    "login": LOGIN_THROTTLES + 3 + TRANSACTION + 2 + AUDIT_ROW,
}


def _bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def _queries(call) -> list[str]:
    """The SQL of the second of two identical requests (the first warms lazy state)."""
    call()
    with CaptureQueriesContext(connection) as captured:
        response = call()
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code < 400, response.content
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def audit_rows(user, admin_user):
    audit_seed(rows=300, seed=3)


@pytest.mark.parametrize(
    "query", ["", "?action=note_created", "?actor={actor}", "?ip=10.0.0.1"], ids=["all", "action", "actor", "ip"]
)
def test_an_audit_list_page_costs_the_same_few_queries_whatever_the_filter(admin_user, user, audit_rows, query):
    client = _bearer(admin_user)
    sql = _queries(lambda: client.get("/api/audit/logs/" + query.format(actor=user.pk)))
    assert len(sql) <= BUDGETS["audit list"], sql


def test_the_lean_audit_list_shows_each_entry_exactly_as_the_entry_serializer_does(admin_user, audit_rows):
    client = _bearer(admin_user)
    listed = client.get("/api/audit/logs/?page_size=50").json()["results"]
    entries = AuditEntry.objects.filter(pk__in=[row["id"] for row in listed]).order_by("-created_at", "-id")
    assert listed == json.loads(json.dumps(AuditEntrySerializer(entries, many=True).data))


def test_an_export_costs_the_same_queries_for_ten_rows_and_for_a_thousand(admin_user):
    client = _bearer(admin_user)
    audit_seed(rows=10, seed=1)
    small = _queries(lambda: client.get("/api/audit/logs/export/?format=jsonl"))
    audit_seed(rows=990, seed=2)
    large = _queries(lambda: client.get("/api/audit/logs/export/?format=jsonl"))
    assert len(large) == len(small), large


def test_a_login_costs_one_user_query_and_one_transaction(user, password):
    client = APIClient()
    sql = _queries(lambda: client.post("/api/auth/login/", {"username": "alice", "password": password}, format="json"))
    assert len(sql) <= BUDGETS["login"], sql
    assert sum('FROM "accounts_user"' in statement for statement in sql) == 1, sql


# ---------------------------------------------------------------- PostgreSQL plans


def _plan(sql: str) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def seeded_audit(user, admin_user):
    """Enough rows that a sequential scan would be the planner's choice without the indexes."""
    audit_seed(rows=20_000, seed=11)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditentry")


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "query", ["", "?action=note_created", "?actor={actor}", "?ip={ip}"], ids=["all", "action", "actor", "ip"]
)
def test_the_benchmarks_audit_lists_read_an_index_never_the_whole_table(admin_user, user, seeded_audit, query):
    client = _bearer(admin_user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT host(ip) FROM audit_auditentry WHERE ip IS NOT NULL ORDER BY id DESC LIMIT 1")
        ip = cursor.fetchone()[0]
    sql = _queries(lambda: client.get("/api/audit/logs/" + query.format(actor=user.pk, ip=ip)))
    reads = [statement for statement in sql if statement.startswith("SELECT") and "audit_auditentry" in statement]
    assert reads, sql
    for statement in reads:
        plan = _plan(statement)
        assert "Seq Scan on audit_auditentry" not in plan, plan
        assert "Index" in plan, plan
