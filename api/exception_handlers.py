"""DRF's exception handler, knowing Django's exceptions too, so that views never convert them.

A service raises Django's ``ValidationError`` (the admin's forms and the
commands show it as it is); under /api/ it becomes DRF's 400 with the same
``{"field": ["message", ...]}`` body a serializer's errors have
(``non_field_errors`` for a message that names no field). Django's refusals of
a hostile body or query string become 400 or 413 (``api.exceptions.client_error``).
Anything else is re-raised to the project's error middleware (500 or 503).

A 429 of the throttles counts their scopes in ``devlab_throttled_requests_total``
here, where it is certain that the answer is the 429.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from api.exceptions import client_error
from devlab import metrics


def api_exception_handler(exc, context):
    """DRF's handler, after turning Django's ``ValidationError`` and request refusals into DRF errors."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, exceptions.Throttled):
        for scope in getattr(context.get("request"), "throttled_scopes", ()):
            metrics.count_throttled(scope)
    return exception_handler(client_error(exc) or exc, context)
