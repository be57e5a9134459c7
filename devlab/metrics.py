"""Prometheus metrics, served at ``/metrics`` to ``METRICS_ALLOWED_IPS`` or ``METRICS_TOKEN``.

Under gunicorn every worker is a process of its own; ``gunicorn.conf.py``
sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers start, so each writes its
samples to files there and ``/metrics`` adds up every worker's (the
prometheus-client multi-process mode). Without it (runserver, tests) the
process's own registry is served.

Labels never hold user data: a route is the resolved URL *pattern*
(``api/notes/<pk>/`` style, never the requested path with its ids), an
unresolved request is ``<unresolved>``; the other labels come from short
fixed lists (methods, status codes, audit actions, throttle scopes).
"""

import hmac
import ipaddress
import os
import time
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from devlab.http import client_ip

UNRESOLVED = "<unresolved>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "devlab_http_requests", "HTTP requests answered, by route, method and status.", ["route", "method", "status"]
)
REQUEST_SECONDS = Histogram(
    "devlab_http_request_duration_seconds",
    "Time from the first middleware to the response, by route and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUEST_QUERIES = Histogram(
    "devlab_db_queries_per_request",
    "Database statements run while answering one request, by route.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
AUDIT_ROWS = Counter("devlab_audit_rows_appended", "Audit rows committed to the chain, by action.", ["action"])
AUDIT_LOCK_WAIT = Histogram(
    "devlab_audit_chain_lock_wait_seconds",
    "Time spent waiting for the audit chain lock before an append.",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
AUDIT_LOCK_HELD = Histogram(
    "devlab_audit_chain_lock_held_seconds",
    "Time from taking the audit chain lock to the commit that releases it (committed appends).",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
LOGIN_FAILURES = Counter("devlab_login_failures", "Failed logins (wrong username or password, inactive user).")
LOGIN_REFUSED = Counter(
    "devlab_login_refused",
    "Logins refused before the password was checked: reason lockout or rate.",
    ["reason"],
)
THROTTLED = Counter("devlab_throttled_requests", "Requests refused by a rate limit (429), by scope.", ["scope"])


# ---------------------------------------------------------------- recording
def route_of(request) -> str:
    """The URL pattern that answered ``request`` (no ids, no query), or ``<unresolved>``."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else UNRESOLVED


class MetricsMiddleware:
    """Counts requests, their time and their database statements. Put it first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = [0]

        def count(execute, sql, params, many, context):
            queries[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(route, method).observe(elapsed)
        REQUEST_QUERIES.labels(route).observe(queries[0])
        return response


def audit_row_committed(action: str, asked: float, locked: float) -> None:
    """Called by ``audit.services`` when an appended row commits: ``asked`` and ``locked`` are
    the ``perf_counter`` times the chain lock was asked for and obtained."""
    AUDIT_ROWS.labels(action).inc()
    AUDIT_LOCK_WAIT.observe(locked - asked)
    AUDIT_LOCK_HELD.observe(time.perf_counter() - locked)


def count_throttled(scope: str | None) -> None:
    """Called by ``api.throttling`` for a request over its rate."""
    THROTTLED.labels(scope or "other").inc()


def on_login_failed(sender, **kwargs):
    """Django's ``user_login_failed``."""
    LOGIN_FAILURES.inc()


def on_login_refused(sender, reason="rate", **kwargs):
    """``accounts.signals.login_refused``: refused by the lockout or a rate limit (every refusal)."""
    LOGIN_REFUSED.labels("lockout" if reason == "lockout" else "rate").inc()


def connect() -> None:
    """Connects the receivers above (``DevlabConfig.ready``)."""
    from django.contrib.auth.signals import user_login_failed

    from accounts import signals as account_signals

    user_login_failed.connect(on_login_failed, dispatch_uid="metrics.login_failed", weak=False)
    account_signals.login_refused.connect(on_login_refused, dispatch_uid="metrics.login_refused", weak=False)


# ---------------------------------------------------------------- audit checkpoints
def checkpoint_model():
    """The model of signed audit checkpoints (``audit.Checkpoint``, with a ``created_at``),
    or None in a build that has none."""
    try:
        return apps.get_model("audit", "Checkpoint")
    except LookupError:
        return None


def last_checkpoint_at():
    """When the newest signed audit checkpoint was made; None when there is none (or no model)."""
    model = checkpoint_model()
    if model is None:
        return None
    return model._default_manager.order_by("-created_at").values_list("created_at", flat=True).first()


class CheckpointCollector:
    """``devlab_audit_checkpoint_age_seconds``, read from the database at scrape time (so
    every worker and replica agree). Absent without a checkpoint model; +Inf while there
    is none yet."""

    def describe(self):
        return []

    def collect(self):
        if checkpoint_model() is None:
            return
        try:
            last = last_checkpoint_at()
        except DatabaseError:
            return
        age = float("inf") if last is None else max(0.0, (timezone.now() - last).total_seconds())
        yield GaugeMetricFamily(
            "devlab_audit_checkpoint_age_seconds", "Seconds since the last signed audit checkpoint.", value=age
        )


# ---------------------------------------------------------------- the endpoint
@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]):
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in allowed if value.strip())


def allowed(request) -> bool:
    """From an address in ``METRICS_ALLOWED_IPS`` (the client IP ``devlab.http`` believes), or
    with ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time)."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, presented = header.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return True
    ip = client_ip(request)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(CheckpointCollector())
        return registry
    return REGISTRY


_checkpoints = CheckpointCollector()


@never_cache
@require_safe
def metrics_view(request):
    """The Prometheus text exposition; 403 unless ``allowed``."""
    if not allowed(request):
        return JsonResponse({"detail": "Forbidden."}, status=403)
    registry = _registry()
    body = generate_latest(registry)
    if registry is REGISTRY:
        extra = CollectorRegistry(auto_describe=False)
        extra.register(_checkpoints)
        body += generate_latest(extra)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
