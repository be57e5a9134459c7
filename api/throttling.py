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

    def counter(self, request, view) -> tuple[str, float] | None:
        """The key of the counter this request hits in the current window, and its timeout in
        seconds; None when this throttle does not count the request."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return None
        self.now = self.timer()
        window = math.floor(self.now / self.duration)
        self.window_ends = (window + 1) * self.duration
        return f"{self.key}:{window}", self.window_ends - self.now + 1

    def allow_request(self, request, view):
        counter = self.counter(request, view)
        if counter is None:
            return True
        hits = getattr(request, "counted_hits", {}).pop(counter[0], None)
        if hits is None:
            hits = count_hit(caches[self.cache_alias], *counter)
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

    def counter(self, request, view):
        # DRF picks the scope and its rate in allow_request; counters_ahead asks first.
        if not getattr(view, self.scope_attr, None):
            return None
        self.scope = getattr(view, self.scope_attr)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().counter(request, view)


def counters_ahead(request, view) -> list[tuple[str, float]]:
    """The ``(key, timeout)`` of each counter the view's throttles will hit for this request.

    For a caller that hits them early, on a round trip it makes anyway
    (``accounts.user_cache``), and leaves the counts in ``request.counted_hits``
    (key to count), where each throttle takes its own instead of hitting again.
    """
    throttles = view.get_throttles() if view is not None else ()
    counters = (throttle.counter(request, view) for throttle in throttles if isinstance(throttle, FixedWindowThrottle))
    return [counter for counter in counters if counter is not None]
