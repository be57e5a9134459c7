"""Request plumbing: client IP, request id, request context and request logs."""

import ipaddress
import logging
import re
import time
import uuid
from functools import lru_cache

from django.conf import settings

from devlab import context

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9\-_.:]{1,128}")
USER_AGENT_MAX_LENGTH = 256

request_logger = logging.getLogger("devlab.request")


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The address of the client, as far as we can believe it.

    ``REMOTE_ADDR`` unless the direct peer is one of ``TRUSTED_PROXIES``; then
    the right-most address of ``X-Forwarded-For`` that is not itself a trusted
    proxy. Everything left of that was written by the client and can be
    forged, so it is never used.
    """
    remote = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not _is_trusted(remote, networks):
        return str(remote) if remote else None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _parse_ip(hop)
        if address is None:
            # A malformed hop: nothing to its left can be trusted either.
            break
        if not _is_trusted(address, networks):
            return str(address)
    return str(remote)


#: How much of an IPv6 address names one client: a /64 is the smallest prefix a
#: site is given (RFC 6177), and hosts pick the low 64 bits freely (SLAAC,
#: privacy addresses), so one client holds 2**64 addresses of it.
IPV6_CLIENT_PREFIX = 64


def network_key(ip: str | None) -> str:
    """The key under which per-client counters (lockout, throttles) count ``ip``.

    An IPv4 address stands for itself; an IPv6 address for its /64 network
    (``2001:db8:1:2::/64``), or for the IPv4 address it maps (``::ffff:a.b.c.d``).
    Anything that does not parse (no address at all) is ``"unknown"``.
    """
    address = _parse_ip(ip or "")
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def request_id_for(request) -> str:
    """The client's X-Request-ID when it is well-formed, else a new UUID."""
    supplied = request.META.get("HTTP_X_REQUEST_ID", "")
    return supplied if _REQUEST_ID_RE.fullmatch(supplied) else str(uuid.uuid4())


class RequestContextMiddleware:
    """Sets the request id, client IP and user agent before anything else runs.

    They are put on the request (``request.request_id``, ``request.client_ip``),
    in the context variable read by logs and the audit trail, and the id on
    the response. Deferred work (``RequestContext.after_response``) runs here,
    once the view and its transaction are done.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request)
        request.client_ip = client_ip(request)
        ctx = context.RequestContext(
            request_id=request.request_id,
            ip=request.client_ip,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX_LENGTH],
        )
        token = context.activate(ctx)
        try:
            response = self.get_response(request)
            for task in ctx.after_response:
                task()
        finally:
            context.deactivate(token)
        response[REQUEST_ID_HEADER] = request.request_id
        if request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response


class RequestLogMiddleware:
    """Writes one JSON line per request: never a body, header or token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
        request_logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "request_id": getattr(request, "request_id", None),
                "user_id": user_id,
                "ip": getattr(request, "client_ip", None),
            },
        )
        return response
