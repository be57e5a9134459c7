"""Routes outside the apps: docs, schema, probes, admin."""

import json
import re

import pytest
from django.db import DatabaseError
from django.urls import resolve, reverse

from devlab.urls import api_patterns

pytestmark = pytest.mark.django_db


def test_root_redirects_to_docs(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/docs"


def test_swagger_ui_is_self_hosted(client):
    response = client.get("/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "drf_spectacular_sidecar/swagger-ui-dist" in html
    assert "cdn" not in html.lower()


def test_swagger_init_script_is_served_separately_for_strict_csp(client):
    response = client.get("/docs", {"script": ""})
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


def test_swagger_ui_does_not_keep_the_bearer_token_in_local_storage(client):
    script = client.get("/docs", {"script": ""}).content.decode()
    swagger_settings = json.loads(re.search(r"const swaggerSettings = (\{.*?\});", script, re.DOTALL).group(1))
    assert swagger_settings["persistAuthorization"] is False


def test_redoc_is_self_hosted(client):
    response = client.get("/redoc")
    assert response.status_code == 200
    assert "drf_spectacular_sidecar/redoc" in response.content.decode()
    assert "cdn." not in response.content.decode()


def test_schema_is_openapi_3_describing_devlab(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "DevLab API"


def test_api_root_is_browsable(client):
    response = client.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "Api Root" in response.content.decode() or "DevLab" in response.content.decode()


def test_session_login_page_exists(client):
    assert client.get("/api-auth/login/").status_code == 200


def test_a_session_login_without_next_lands_on_the_browsable_api(client, user, password):
    response = client.post("/api-auth/login/", {"username": user.username, "password": password}, follow=True)
    assert response.redirect_chain == [("/api/", 302)]
    assert response.status_code == 200


def test_admin_has_the_devlab_header(admin_client):
    response = admin_client.get("/admin/")
    assert "DevLab administration" in response.content.decode()


def test_healthz_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_readyz_is_503_json_when_the_database_is_down(client, monkeypatch):
    def refuse(self):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "error"}


def test_favicon_redirects_to_a_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon-32x32.png")
    assert response["Location"].startswith("/static/")


def _sample_path(pattern) -> str:
    """A path that ``pattern`` (a route under /api/) matches, with 1 for every argument."""
    regex = pattern.pattern.regex
    kwargs = {name: ("json" if name == "format" else "1") for name in regex.groupindex}
    return reverse(pattern.name, kwargs=kwargs)


def test_no_api_route_is_shadowed_by_an_earlier_one():
    """The API's routes are ordered for speed (devlab/urls.py), which is only safe while
    every route's own paths still resolve to it."""
    for pattern in api_patterns:
        path = _sample_path(pattern)
        assert resolve(path).url_name == pattern.name, path


def test_the_notes_list_is_resolved_without_trying_the_other_api_routes():
    match = resolve("/api/notes/")
    assert match.url_name == "note-list"
    assert len(match.tried) == 1  # no pattern before it was tried
