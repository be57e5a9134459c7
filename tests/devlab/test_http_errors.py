"""Errors under /api/ are JSON whatever DEBUG is; outside /api/ Django's pages stay."""

import pytest
from django.db import OperationalError
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from devlab import urls as devlab_urls


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def _echo(request):
    return Response({"data": request.data})


@api_view(["GET"])
@permission_classes([AllowAny])
def _boom(request):
    raise RuntimeError("secret internals")


@api_view(["GET"])
@permission_classes([AllowAny])
def _db_down(request):
    raise OperationalError("connection refused")


def _plain_form(request):
    """A view outside DRF that reads the form itself."""
    return HttpResponse(request.POST.get("a", ""))


urlpatterns = [
    path("api/test/plain-form/", _plain_form),
    path("api/test/echo/", _echo),
    path("api/test/boom/", _boom),
    path("api/test/db-down/", _db_down),
    *devlab_urls.urlpatterns,
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_unknown_api_path_is_json_404(client, debug):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_wrong_method_is_json_405(client, debug):
    response = client.delete("/api/test/echo/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_body_over_the_limit_is_json_413(client, debug):
    response = client.post("/api/test/echo/", data={"text": "x" * 2048}, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large."}


def test_unsupported_media_type_is_json_415(client, debug):
    response = client.post("/api/test/echo/", data="<a/>", content_type="application/xml")
    assert response.status_code == 415
    assert "detail" in response.json()


def test_malformed_json_is_400(client, debug):
    response = client.post("/api/test/echo/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_unhandled_exception_is_json_500_without_traceback(client, debug):
    client.raise_request_exception = False
    response = client.get("/api/test/boom/", HTTP_X_REQUEST_ID="req-500")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "request_id": "req-500"}
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_database_unavailable_is_json_503_with_retry_after(client, debug):
    client.raise_request_exception = False
    response = client.get("/api/test/db-down/")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response.json()["detail"]


def test_outside_api_django_pages_are_kept(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_browser_asking_for_html_gets_the_browsable_api(client):
    response = client.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_a_form_django_refuses_outside_drf_is_still_a_json_400_under_the_api(client, debug):
    client.raise_request_exception = False
    body = "&".join(f"f{n}=1" for n in range(2_000))
    response = client.post("/api/test/plain-form/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many fields in the request."}
