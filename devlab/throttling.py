"""DRF throttles keyed by the client IP we believe (devlab.http.client_ip).

DRF's own ``get_ident`` uses the whole ``X-Forwarded-For`` header when
``NUM_PROXIES`` is unset, so a client could pick a fresh identity per request.
"""

from rest_framework import throttling

from devlab.http import client_ip


class _ClientIpMixin:
    def get_ident(self, request):
        return client_ip(request) or "unknown"


class AnonRateThrottle(_ClientIpMixin, throttling.AnonRateThrottle):
    """``THROTTLE_ANON`` per client IP for anonymous requests."""


class UserRateThrottle(_ClientIpMixin, throttling.UserRateThrottle):
    """``THROTTLE_USER`` per authenticated user (per IP when anonymous)."""


class ScopedRateThrottle(_ClientIpMixin, throttling.ScopedRateThrottle):
    """Per-view scopes, such as ``login``, per user or client IP."""
