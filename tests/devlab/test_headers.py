"""Security and caching headers, and CORS limited to configured origins."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/healthz", "/api/", "/admin/login/", "/docs"])
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/api/", "/api/schema/", "/api/missing/"])
def test_api_responses_are_not_cached(client, path):
    assert client.get(path)["Cache-Control"] == "no-store"


def test_cors_allows_a_configured_origin(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.get("/api/", HTTP_ORIGIN="https://app.example.com")
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]


def test_cors_refuses_other_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.get("/api/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response
