"""The OpenAPI schema describes the notes API as it behaves: six operations, their parameters and errors."""

import pytest

from notes.filters import SEARCH_MAX_LENGTH

pytestmark = pytest.mark.django_db

LIST, DETAIL = "/api/notes/", "/api/notes/{id}/"


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _parameters(operation) -> dict[str, dict]:
    return {parameter["name"]: parameter for parameter in operation.get("parameters", [])}


def test_the_schema_has_all_six_note_operations(schema):
    operations = {
        (path, method): operation["operationId"]
        for path in (LIST, DETAIL)
        for method, operation in schema["paths"][path].items()
    }
    assert operations == {
        (LIST, "get"): "notes_list",
        (LIST, "post"): "notes_create",
        (DETAIL, "get"): "notes_retrieve",
        (DETAIL, "put"): "notes_update",
        (DETAIL, "patch"): "notes_partial_update",
        (DETAIL, "delete"): "notes_destroy",
    }


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        (LIST, "get", {"200", "400", "401", "404", "429"}),
        (LIST, "post", {"201", "400", "401", "429"}),
        (DETAIL, "get", {"200", "401", "404", "429"}),
        (DETAIL, "put", {"200", "400", "401", "404", "429"}),
        (DETAIL, "patch", {"200", "400", "401", "404", "429"}),
        (DETAIL, "delete", {"204", "401", "404", "429"}),
    ],
)
def test_each_operation_documents_its_real_status_codes(schema, path, method, codes):
    assert set(schema["paths"][path][method]["responses"]) == codes


def test_the_list_documents_search_ordering_cursor_and_page_size(schema):
    parameters = _parameters(schema["paths"][LIST]["get"])
    assert set(parameters) == {"search", "ordering", "cursor", "page_size"}
    assert parameters["ordering"]["schema"]["enum"] == ["created_at", "-created_at", "updated_at", "-updated_at"]
    assert parameters["ordering"]["schema"]["default"] == "-created_at"
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "default": 20}
    assert "100" in parameters["page_size"]["description"]
    assert parameters["search"]["schema"]["maxLength"] == SEARCH_MAX_LENGTH
    assert "ignoring case" in parameters["search"]["description"]


def test_the_list_is_a_page_of_next_previous_and_results(schema):
    ref = schema["paths"][LIST]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(page["properties"]) == {"next", "previous", "results"}


def test_the_note_has_four_fields_and_only_text_is_writable(schema):
    components = schema["components"]["schemas"]
    assert set(components["Note"]["properties"]) == {"id", "text", "created_at", "updated_at"}
    assert {name for name, field in components["Note"]["properties"].items() if field.get("readOnly")} == {
        "id",
        "created_at",
        "updated_at",
    }
    assert set(components["NoteRequest"]["properties"]) == {"text"}
    assert components["NoteRequest"]["required"] == ["text"]


def test_the_text_schema_states_the_length_and_character_rules(schema):
    text = schema["components"]["schemas"]["NoteRequest"]["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, 10_000)
    assert text["pattern"].startswith("^[^\\x00-")


def test_the_note_id_is_an_integer_path_parameter(schema):
    for method in ("get", "put", "patch", "delete"):
        assert _parameters(schema["paths"][DETAIL][method])["id"]["schema"]["type"] == "integer"
