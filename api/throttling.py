"""DRF throttles as fixed-window counters, keyed by the client IP we believe.

DRF's own throttles keep every request time of the window in one cache entry,
read and rewritten on every request (two statements with the database cache,
and an entry that grows with the rate). Here a request costs one atomic
counter hit (``devlab.cache.count_hit``: one SQL statement with the database
cache) on a key per window of the rate's duration; ``Retry-After`` is the time
left in the window. A fixed window lets a client send up to twice the rate
across a window boundary, the usual trade for a constant cost.

DRF's own ``get_ident`` uses the whole ``X-Forwarded-For`` header when
``NUM_PROXIES`` is unset, so a client could pick a fresh identity per request;
``client_ip`` trusts only ``TRUSTED_PROXIES``. An IPv6 client is counted by
its /64 network (``network_key``): it holds every address of it.
"""

import math

from django.core.cache import caches
from rest_framework import throttling

from devlab.cache import count_hit
from devlab.http import client_ip, network_key


class FixedWindowThrottle(throttling.SimpleRateThrottle):
    """DRF's ``SimpleRateThrottle`` with a counter per window instead of a history."""

    cache_alias = "default"

    def get_ident(self, request):
        return network_key(client_ip(request))

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = math.floor(self.now / self.duration)
        self.window_ends = (window + 1) * self.duration
        hits = count_hit(caches[self.cache_alias], f"{self.key}:{window}", timeout=self.window_ends - self.now + 1)
        if hits > self.num_requests:
            # Counted in the metrics when the 429 is answered (api.exception_handlers): DRF
            # asks every throttle first, and one that reads the body may refuse it with a 400.
            request.throttled_scopes = [*getattr(request, "throttled_scopes", ()), self.scope]
            return False
        return True

    def wait(self):
        return max(self.window_ends - self.now, 0)


# DRF's classes first: ScopedRateThrottle picks the view's rate, then calls
# FixedWindowThrottle.allow_request through super().
class AnonRateThrottle(throttling.AnonRateThrottle, FixedWindowThrottle):
    """``THROTTLE_ANON`` per client IP for anonymous requests."""


class UserRateThrottle(throttling.UserRateThrottle, FixedWindowThrottle):
    """``THROTTLE_USER`` per authenticated user (per IP when anonymous)."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, FixedWindowThrottle):
    """Per-view scopes, such as ``login``, per user or client IP."""
