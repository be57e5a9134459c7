"""The API's own exceptions, and the one mapping of Django's refusals of a hostile request to them.

``client_error`` maps what a hostile request makes Django raise while it reads
the body or query string (``RequestDataTooBig`` 413, ``TooManyFieldsSent`` and
``TooManyFilesSent`` 400, any other ``SuspiciousOperation`` 400), which DRF
does not know and Django would answer with an HTML 400 page, or here a 500.
The exception handler (``api.exception_handlers``) and the project's error
middleware (``devlab.errors``) both use it.
"""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Request body too large.")
    default_code = "request_too_large"


class Conflict(exceptions.APIException):
    """409: the request contradicts the current state of what it acts on (already on, already an admin...)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the user's current state.")
    default_code = "conflict"


def client_error(exc: Exception) -> exceptions.APIException | None:
    """The client error a request that Django refused to read is, or None for any other exception.

    The one place where Django's refusals of a hostile body or query string
    (SuspiciousOperation subclasses) become DRF errors, for views and middleware alike.
    """
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent):
        return exceptions.ParseError(_("Too many fields in the request."))
    if isinstance(exc, TooManyFilesSent):
        return exceptions.ParseError(_("Too many files in the request."))
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError(_("Bad request."))
    return None
