"""The OpenAPI error responses every app documents, written once.

Two body shapes cover every error: ``{"detail": "..."}`` (``DETAIL``) and
DRF's field errors: ``field_errors`` where a body is read (one that does not
parse is ``{"detail": "..."}``, hence string or list), ``query_errors`` where
only a query string is (always lists). An endpoint that says more than the shared
description does builds its own with these helpers.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

#: ``{"detail": "..."}``: every error that is not about fields.
DETAIL = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})

_MESSAGES = {"type": "array", "items": {"type": "string"}}


def detail_error(description: str) -> OpenApiResponse:
    """An error answered as ``{"detail": "..."}``."""
    return OpenApiResponse(DETAIL, description=description)


def field_errors(description: str, *, example: dict | None = None) -> OpenApiResponse:
    """DRF's validation errors, ``{"field": ["message", ...]}``, or ``{"detail": "..."}`` for a body
    that does not parse."""
    shape = {"type": "object", "additionalProperties": {"oneOf": [_MESSAGES, {"type": "string"}]}}
    return OpenApiResponse({**shape, "example": example or {"field": ["This field is required."]}}, description)


def query_errors(description: str, *, example: dict | None = None) -> OpenApiResponse:
    """A query string's errors, ``{"parameter": ["message", ...]}``."""
    shape = {"type": "object", "additionalProperties": _MESSAGES}
    return OpenApiResponse({**shape, "example": example} if example else shape, description)


BAD_REQUEST = field_errors("Field errors.")
UNAUTHORIZED = detail_error("Missing, invalid or expired credentials (with `WWW-Authenticate: Bearer`).")
NOT_ADMIN = detail_error("Not an admin (recorded as access_denied).")
BAD_CURSOR = detail_error("A `cursor` that this API did not issue.")
THROTTLED = detail_error("Too many requests; `Retry-After` says how many seconds to wait.")

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)
