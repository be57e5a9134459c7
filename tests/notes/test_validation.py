"""What a note's text may be: required, stripped, 1 to 10,000 characters, no control characters."""

import json
import re

import pytest
from rest_framework.exceptions import ValidationError

from notes.models import TEXT_MAX_LENGTH, Note
from notes.serializers import TEXT_PATTERN, NoteTextField
from tests.factories import NoteFactory
from tests.notes.conftest import NOTES_URL, note_url

pytestmark = pytest.mark.django_db


def _create(client, text):
    return client.post(NOTES_URL, {"text": text}, format="json")


def test_text_is_required(user_client):
    response = user_client.post(NOTES_URL, {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"text": ["This field is required."]}


def test_text_is_stored_stripped(user_client):
    response = _create(user_client, "  \n\t Buy milk \u00a0\u3000\r\n")
    assert response.json()["text"] == "Buy milk"
    assert Note.objects.get().text == "Buy milk"


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t\r\n", "\u00a0\u2003\u3000"], ids=["empty", "spaces", "breaks", "unicode"]
)
def test_text_blank_after_stripping_is_a_400(user_client, text):
    response = _create(user_client, text)
    assert response.status_code == 400
    assert response.json() == {"text": ["This field may not be blank."]}
    assert not Note.objects.exists()


def test_an_update_to_blank_is_a_400_and_keeps_the_text(user_client, user):
    note = NoteFactory(owner=user, text="Kept")
    assert user_client.patch(note_url(note.pk), {"text": "  "}, format="json").status_code == 400
    note.refresh_from_db()
    assert note.text == "Kept"


def test_text_of_exactly_ten_thousand_characters_is_accepted(user_client):
    response = _create(user_client, "x" * TEXT_MAX_LENGTH)
    assert response.status_code == 201
    assert len(Note.objects.get().text) == TEXT_MAX_LENGTH


def test_ten_thousand_emoji_are_ten_thousand_characters(user_client):
    text = "\U0001f600" * TEXT_MAX_LENGTH  # 40,000 bytes of UTF-8
    response = _create(user_client, text)
    assert response.status_code == 201
    assert Note.objects.get().text == text


def test_text_over_ten_thousand_characters_is_a_400(user_client):
    response = _create(user_client, "x" * (TEXT_MAX_LENGTH + 1))
    assert response.status_code == 400
    assert response.json() == {"text": ["Ensure this field has no more than 10000 characters."]}
    assert not Note.objects.exists()


def test_the_limit_counts_the_text_as_sent_surrounding_whitespace_included(user_client):
    assert _create(user_client, "x" * TEXT_MAX_LENGTH + " ").status_code == 400


def test_an_update_over_the_limit_is_a_400(user_client, user):
    note = NoteFactory(owner=user, text="Kept")
    response = user_client.put(note_url(note.pk), {"text": "x" * (TEXT_MAX_LENGTH + 1)}, format="json")
    assert response.status_code == 400
    note.refresh_from_db()
    assert note.text == "Kept"


def test_a_nul_character_is_a_400(user_client):
    response = _create(user_client, "before\x00after")
    assert response.status_code == 400
    assert response.json() == {"text": ["Null characters are not allowed."]}
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    ("text", "code_point"),
    [
        ("bell\x07", "U+0007"),
        ("escape \x1b[31m red", "U+001B"),
        ("\x1fleading unit separator", "U+001F"),
        ("vertical\x0btab", "U+000B"),
        ("delete\x7f", "U+007F"),
        ("next line\x85", "U+0085"),
        ("c1 \x9b control", "U+009B"),
    ],
)
def test_control_characters_other_than_tab_and_line_breaks_are_a_400(user_client, text, code_point):
    response = _create(user_client, text)
    assert response.status_code == 400
    assert response.json() == {"text": [f"Control characters are not allowed: {code_point}."]}
    assert not Note.objects.exists()


def test_tabs_and_line_breaks_inside_the_text_are_kept(user_client):
    text = "Shopping:\n\t- milk\r\n\t- bread"
    assert _create(user_client, text).json()["text"] == text


def test_a_lone_surrogate_is_a_400_not_a_500(user_client):
    response = user_client.post(NOTES_URL, '{"text": "half \\ud83d emoji"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"text": ["Surrogate characters are not allowed: U+D83D."]}


@pytest.mark.parametrize("value", [42, 4.2, True, ["a"], {"a": 1}, None])
def test_text_that_is_not_a_string_is_a_400(user_client, value):
    response = _create(user_client, value)
    assert response.status_code == 400
    assert not Note.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "Olá, coração! ça va? Größe",
        "日本語のメモ、한국어 메모, עברית, العربية",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family, \U0001f44b\U0001f3fd wave, \U0001f1e7\U0001f1f7 flag",
        "zero\u200bwidth and \u202eright-to-left override and \ufeffbom",
        "math \U0001d4af\U0001d4ae and combining e\u0301",
    ],
    ids=["latin", "cjk-rtl", "emoji-sequences", "format-characters", "astral-combining"],
)
def test_unicode_round_trips_unchanged(user_client, text):
    created = _create(user_client, text)
    assert created.status_code == 201
    assert created.json()["text"] == text
    fetched = user_client.get(note_url(created.json()["id"]))
    assert json.loads(fetched.content)["text"] == text
    assert Note.objects.get().text == text


def test_the_schema_pattern_accepts_exactly_the_single_characters_the_field_accepts():
    field = NoteTextField()
    pattern = re.compile(TEXT_PATTERN)
    # Every whitespace and control character lies below U+3100, plus U+FEFF
    # (whitespace to JavaScript's \s, not to Python) and one emoji.
    for code_point in [*range(0x3100), 0xFEFF, 0x1F600]:
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        character = chr(code_point)
        try:
            field.run_validation(character)
            accepted = True
        except ValidationError:
            accepted = False
        assert bool(pattern.fullmatch(character)) is accepted, f"U+{code_point:04X}"
