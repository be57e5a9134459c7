"""api.exception_handlers: Django's exceptions become DRF's errors once, so views never convert them."""

import pytest
from django.core.exceptions import TooManyFieldsSent, ValidationError
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from api.exceptions import Conflict

#: What a view raises, and the status and body the client gets.
RAISED_AND_ANSWERED = {
    "a-django-validation-error-on-a-field-is-a-400-naming-the-field": (
        ValidationError({"email": ["This email is taken."]}),
        400,
        {"email": ["This email is taken."]},
    ),
    "a-django-validation-error-without-a-field-is-a-400-of-non-field-errors": (
        ValidationError("Not allowed now."),
        400,
        {"non_field_errors": ["Not allowed now."]},
    ),
    "a-request-django-refused-to-read-is-a-json-400": (
        TooManyFieldsSent("too many"),
        400,
        {"detail": "Too many fields in the request."},
    ),
    "conflict-is-a-409-with-its-detail": (Conflict("Already on."), 409, {"detail": "Already on."}),
}


def _raising(exc):
    @api_view(["POST"])
    @permission_classes([AllowAny])
    def view(request):
        raise exc

    return view


urlpatterns = [path(f"api/test/{name}/", _raising(exc)) for name, (exc, _, _) in RAISED_AND_ANSWERED.items()]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.mark.parametrize("name", RAISED_AND_ANSWERED)
def test_the_handler_answers_what_a_view_raised(client, name):
    _exc, status, body = RAISED_AND_ANSWERED[name]
    response = client.post(f"/api/test/{name}/")
    assert response.status_code == status
    assert response.json() == body
