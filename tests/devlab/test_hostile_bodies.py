"""No request is a 500: every /api/ operation that reads a body answers a hostile one with 4xx JSON.

The operations come from the OpenAPI schema, so an endpoint added later is
covered without a line here. Each is called as an admin (the body is read
after authentication and permissions) with each kind of body below; Django's
refusals (too many fields or files, too large) and the parsers' (too deep,
duplicate keys, NaN, a 10,000-digit number, bad UTF-8, a charset that is no
text encoding, broken multipart) all end as ``{"detail": ...}``.
"""

import io
import json
import uuid
import zlib

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts import signals
from accounts.models import User
from devlab import asgi
from devlab.charset import TextCharsetASGIRequest
from devlab.wsgi import application
from tests.accounts.test_lockout import capture
from tests.factories import AdminFactory, NoteFactory, UserFactory

pytestmark = pytest.mark.django_db

BOUNDARY = "2f8ea9fbcc2c7d077877d91e7d7a6e3f"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TOO_MANY_FIELDS = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1
TOO_MANY_FILES = settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1


def _operations(*, with_body: bool) -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if not with_body or "requestBody" in operation
    ]


BODY_OPERATIONS = _operations(with_body=True)
ALL_OPERATIONS = _operations(with_body=False)


def _field(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def _file(n: int) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{n}"; filename="f{n}.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nx\r\n"
    ).encode()


END = f"--{BOUNDARY}--\r\n".encode()

# name: (Content-Type, body). Each must be refused with a 4xx, whatever the operation.
HOSTILE = {
    "form-too-many-fields": (FORM, "&".join(f"f{n}=1" for n in range(TOO_MANY_FIELDS)).encode()),
    "multipart-too-many-fields": (MULTIPART, b"".join(_field(f"f{n}", "1") for n in range(TOO_MANY_FIELDS)) + END),
    "multipart-too-many-files": (MULTIPART, b"".join(_file(n) for n in range(TOO_MANY_FILES)) + END),
    "multipart-without-boundary": ("multipart/form-data", _field("text", "x") + END),
    "multipart-empty-boundary": ("multipart/form-data; boundary=", _field("text", "x") + END),
    "multipart-boundary-too-long": (f"multipart/form-data; boundary={'b' * 71}", _field("text", "x") + END),
    "multipart-part-cut-in-its-headers": (MULTIPART, f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode()),
    "json-nested-deep-arrays": (JSON, b"[" * 100_000 + b"]" * 100_000),
    "json-nested-deep-objects": (JSON, b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
    "json-10000-digit-number": (JSON, b'{"text": 1' + b"0" * 10_000 + b"}"),
    "json-nan": (JSON, b'{"text": NaN}'),
    "json-infinity": (JSON, b'{"text": -Infinity}'),
    "json-duplicate-keys": (JSON, b'{"text": "first", "text": "second"}'),
    "json-invalid-utf8": (JSON, b'{"text": "\xff\xfe"}'),
    "json-latin1-with-unknown-charset": (f"{JSON}; charset=foo", '{"text": "caf\xe9"}'.encode("latin-1")),
    "json-zlib-charset": (f"{JSON}; charset=zlib", zlib.compress(b'{"text": "' + b"x" * 100_000 + b'"}')),
    "form-zlib-charset": (f"{FORM}; charset=zlib", zlib.compress(b"text=x")),
    "too-large": (JSON, b'{"text": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'),
}
# JSON that parses but is no object: a validation error ({"non_field_errors": [...]}) or a detail.
NOT_AN_OBJECT = {"array": b"[]", "null": b"null", "string": b'"text"', "number": b"1", "nested-array": b"[[{}]]"}


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def admin_client(admin):
    client = APIClient()
    client.force_authenticate(admin)
    client.raise_request_exception = False
    return client


@pytest.fixture
def fill_path(admin):
    """Gives a path's ``{id}`` an object that exists: the admin's own note, or another user."""
    note, other = NoteFactory(owner=admin), UserFactory()

    def fill(path: str) -> str:
        return path.replace("{id}", str(note.pk if path.startswith("/api/notes/") else other.pk))

    return fill


def _assert_json_detail(response, statuses) -> None:
    assert response.status_code in statuses, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    assert isinstance(response.json()["detail"], str)


def test_every_endpoint_that_reads_a_body_is_covered():
    # A schema that lost its operations would make every case below vacuous.
    assert {("POST", "/api/auth/login/"), ("POST", "/api/notes/"), ("PATCH", "/api/auth/me/")} <= set(BODY_OPERATIONS)


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[" ".join(op) for op in BODY_OPERATIONS])
def test_a_hostile_body_is_a_4xx_json_error_on_every_endpoint(admin_client, fill_path, method, path, kind):
    content_type, body = HOSTILE[kind]
    response = admin_client.generic(method, fill_path(path), body, content_type=content_type)
    expected = {413} if kind == "too-large" else {400, 415}
    _assert_json_detail(response, expected)


@pytest.mark.parametrize("kind", NOT_AN_OBJECT)
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[" ".join(op) for op in BODY_OPERATIONS])
def test_json_that_is_not_an_object_is_a_400_on_every_endpoint(admin_client, fill_path, method, path, kind):
    response = admin_client.generic(method, fill_path(path), NOT_AN_OBJECT[kind], content_type=JSON)
    assert response.status_code == 400, response.content[:300]
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize(("method", "path"), ALL_OPERATIONS, ids=[" ".join(op) for op in ALL_OPERATIONS])
def test_a_query_string_with_too_many_fields_is_a_400_on_every_endpoint(admin_client, fill_path, method, path):
    # DRF reads the query string of every request (?format=), so Django refused it everywhere: 500.
    query = "&".join(f"q{n}=1" for n in range(5_000))
    response = admin_client.generic(method, f"{fill_path(path)}?{query}", b"{}", content_type=JSON)
    _assert_json_detail(response, {400})
    assert response.json()["detail"] == "Too many fields in the request."


def test_too_many_fields_is_named_as_such(admin_client):
    content_type, body = HOSTILE["form-too-many-fields"]
    response = admin_client.generic("POST", "/api/notes/", body, content_type=content_type)
    assert response.json() == {"detail": "Too many fields in the request."}


def test_too_many_files_is_named_as_such(admin_client):
    content_type, body = HOSTILE["multipart-too-many-files"]
    response = admin_client.generic("POST", "/api/notes/", body, content_type=content_type)
    assert response.json() == {"detail": "Too many files in the request."}


def test_duplicate_keys_are_refused_rather_than_read_last_wins(admin_client, admin):
    response = admin_client.generic("POST", "/api/notes/", HOSTILE["json-duplicate-keys"][1], content_type=JSON)
    assert response.status_code == 400
    assert "twice" in response.json()["detail"]
    assert not admin.notes.exists()


def test_the_same_key_in_two_different_objects_is_fine(admin_client):
    body = b'{"text": "kept", "meta": {"text": "nested"}}'
    assert admin_client.generic("POST", "/api/notes/", body, content_type=JSON).status_code == 201


def test_nesting_too_deep_says_so_without_python_internals(admin_client):
    response = admin_client.generic("POST", "/api/notes/", HOSTILE["json-nested-deep-arrays"][1], content_type=JSON)
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


@pytest.mark.parametrize("path", ["/api/auth/login/", "/api/auth/signup/", "/api/auth/refresh/"])
@pytest.mark.parametrize("kind", ["form-too-many-fields", "json-nested-deep-arrays", "json-duplicate-keys"])
def test_an_anonymous_hostile_body_on_the_open_endpoints_is_a_400(api_client, path, kind):
    api_client.raise_request_exception = False
    content_type, body = HOSTILE[kind]
    _assert_json_detail(api_client.generic("POST", path, body, content_type=content_type), {400})


def test_a_rate_limited_login_with_too_many_fields_is_still_a_429_and_recorded(api_client, monkeypatch):
    # The throttle reads the attempted username for the audit row: Django refused the form there (500).
    from accounts.views import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "login", "1/min")
    api_client.post("/api/auth/login/", {"username": "someone", "password": "x"}, format="json")
    content_type, body = HOSTILE["form-too-many-fields"]
    with capture(signals.login_throttled) as calls:
        response = api_client.generic("POST", "/api/auth/login/", body, content_type=content_type)
    assert response.status_code == 429
    assert calls == [{"sender": User, "username": "", "reason": "rate"}]


def test_django_refusals_outside_the_api_keep_djangos_400_page(admin_client):
    admin_client.raise_request_exception = False
    content_type, body = HOSTILE["form-too-many-fields"]
    response = admin_client.generic("POST", "/admin/login/", body, content_type=content_type)
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def _wsgi_get(path: str, query: str, content_type: str) -> tuple[str, dict, bytes]:
    """A request through the WSGI application gunicorn serves (the test client builds Django's own request)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    started = {}
    # As Django's test client does: the test's transaction must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, lambda status, headers: started.update(status=status, headers=headers)))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], dict(started["headers"]), body


@pytest.mark.parametrize("charset", ["zlib", "base64_codec", "rot13", "hex"])
@pytest.mark.parametrize("path", ["/api/", "/healthz", "/admin/login/"])
def test_a_charset_that_is_no_text_encoding_is_ignored_not_a_500(path, charset):
    # Django decoded the query string with it while it built the request, before any middleware.
    status, headers, _body = _wsgi_get(path, "next=%2Fadmin%2F&a=1", f"text/plain; charset={charset}")
    assert status.startswith("200"), status
    uuid.UUID(headers["X-Request-ID"])


def test_a_text_charset_is_still_honoured(admin_client, admin):
    body = '{"text": "café"}'.encode("utf-16")
    response = admin_client.generic("POST", "/api/notes/", body, content_type=f"{JSON}; charset=utf-16")
    assert response.status_code == 201
    assert json.loads(response.content)["text"] == "café"


def test_the_asgi_entry_point_ignores_such_a_charset_too():
    assert asgi.application.request_class is TextCharsetASGIRequest
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/",
        "query_string": b"a=1",
        "headers": [(b"content-type", b"text/plain; charset=zlib"), (b"host", b"localhost")],
    }
    request = TextCharsetASGIRequest(scope, io.BytesIO(b""))
    assert request.GET["a"] == "1"
    assert request.encoding is None
