"""JSON errors under /api/, whatever DEBUG is.

DRF renders the errors it knows (validation, 401, 403, 404, 405, 415, 429),
and through ``api.exception_handlers`` Django's ``ValidationError`` and its
refusals of a hostile body or query string (``api.exceptions.client_error``).
``ApiErrorMiddleware`` covers the rest: bodies over the size limit (413),
unknown paths (Django's own 404 page), unhandled exceptions (500, logged with
the traceback, never sent) and an unreachable database or shared cache (503).
"""

import logging

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.exceptions import client_error
from devlab import dbpool

logger = logging.getLogger("devlab.errors")

RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"

# A backing service that is down or restarting: the request may succeed if
# retried, so 503 with Retry-After rather than 500. The shared cache (Redis)
# holds the throttle and lockout counters every API request reads; without
# them requests are refused, never let through uncounted.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def _status_detail(status: int) -> str:
    details = {
        400: _("Bad request."),
        403: _("You do not have permission to perform this action."),
        404: _("Not found."),
        405: _("Method not allowed."),
        413: _("Request body too large."),
        500: _("Internal server error"),
        503: _("Service temporarily unavailable, try again shortly."),
    }
    return details.get(status, _("Request failed."))


def json_error(request, status: int, **extra) -> JsonResponse:
    return JsonResponse({"detail": _status_detail(status), **extra}, status=status)


def _rendered_by_drf(response) -> bool:
    return getattr(response, "accepted_renderer", None) is not None


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _too_large(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class ApiErrorMiddleware:
    """Makes every error under /api/ a JSON ``{"detail": ...}`` response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if _too_large(request):
            return json_error(request, 413)
        try:
            request.GET  # noqa: B018 - parsed lazily: refuse a hostile query string before any view, whether it reads it or not
        except SuspiciousOperation as exc:
            refused = client_error(exc)
            return JsonResponse({"detail": str(refused.detail)}, status=refused.status_code)
        response = self.get_response(request)
        if response.status_code >= 400 and not _rendered_by_drf(response) and not _is_json(response):
            return json_error(request, response.status_code)
        return response

    def process_exception(self, request, exception):
        """Logs every unhandled exception once; answers JSON under /api/.

        Django's own ``django.request`` logger is silenced in settings, so
        this is the one place a traceback is written (with the request id).
        """
        refused = client_error(exception)
        if refused is not None:
            # A hostile request, not a fault: Django answers its 400 page outside /api/.
            if not request.path.startswith(API_PREFIX):
                return None
            return JsonResponse({"detail": str(refused.detail)}, status=refused.status_code)
        unavailable = isinstance(exception, UNAVAILABLE_ERRORS)
        if isinstance(exception, OperationalError | InterfaceError):
            dbpool.check_pools()
        if unavailable:
            logger.error(
                "backing service unavailable on %s %s: %s.%s",
                request.method,
                request.path,
                exception.__class__.__module__,
                exception.__class__.__name__,
            )
        else:
            logger.exception("unhandled exception on %s %s", request.method, request.path)
        if not request.path.startswith(API_PREFIX):
            return None
        request_id = getattr(request, "request_id", None)
        if unavailable:
            response = json_error(request, 503, request_id=request_id)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return json_error(request, 500, request_id=request_id)
