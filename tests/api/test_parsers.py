"""Request bodies that do not parse are a 400, in every format the API reads (api.parsers)."""

import pytest

from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, note_url

pytestmark = pytest.mark.django_db

ME_URL = "/api/auth/me/"
BOUNDARY = "2f8ea9fbcc2c7d077877d91e7d7a6e3f"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _part(name: str, value: str) -> str:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'


def test_a_multipart_body_whose_part_names_no_field_is_a_400(user_client, user):
    # Found by schemathesis: such a body read as an empty form, and PATCH answered 200.
    body = f"--{BOUNDARY}\r\n[[True, None], {{'a': 1}}]--{BOUNDARY}--\r\n"
    response = user_client.generic("PATCH", ME_URL, body, content_type=MULTIPART)
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]


def test_a_multipart_note_update_with_a_nameless_part_is_a_400(user_client, user):
    note = NoteFactory(owner=user, text="kept")
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nchanged\r\n--{BOUNDARY}--\r\n"
    assert user_client.generic("PATCH", note_url(note.pk), body, content_type=MULTIPART).status_code == 400
    note.refresh_from_db()
    assert note.text == "kept"


def test_a_multipart_form_with_named_parts_is_read(user_client, user):
    body = _part("", "an empty name is still a field") + _part("text", "from a form") + f"--{BOUNDARY}--\r\n"
    response = user_client.generic("POST", NOTES_URL, body, content_type=MULTIPART)
    assert response.status_code == 201
    assert response.json()["text"] == "from a form"


def test_an_empty_multipart_form_is_read_as_no_fields(user_client, user):
    response = user_client.generic("PATCH", ME_URL, f"--{BOUNDARY}--\r\n", content_type=MULTIPART)
    assert response.status_code == 200


def test_a_body_that_is_not_json_is_a_400_the_schema_describes(user_client, client):
    # Found by schemathesis: the notes' 400 schema allowed only field errors, not {"detail": ...}.
    response = user_client.generic("POST", NOTES_URL, "\x00", content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    errors = schema["paths"][NOTES_URL]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
    assert {"type": "string"} in errors["additionalProperties"]["oneOf"]


def test_a_multipart_part_with_oversized_headers_is_a_400(user_client, user):
    # Found by the fuzz-under-load scenario: Django's parser raised, and the API answered 500.
    body = f"--{BOUNDARY}\r\nX-Padding: {'a' * 20_000}\r\n--{BOUNDARY}--\r\n"
    response = user_client.generic("POST", NOTES_URL, body, content_type=MULTIPART)
    assert response.status_code == 400
    assert "header" in response.json()["detail"]
