"""The note's JSON shape and the rules its text must follow."""

import re
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from api.jsontime import utc_iso
from notes.models import TEXT_MAX_LENGTH, Note

#: The fields of a note's JSON, in order: ``NoteSerializer``'s and ``note_document``'s alike.
NOTE_FIELDS = ("id", "text", "created_at", "updated_at")


# Unicode control characters (category Cc) except tab, line feed and carriage
# return, and lone surrogates (JSON can carry "\ud800"; no database can store
# it). NUL is one of the controls; PostgreSQL cannot store it either.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

#: The same rule for the OpenAPI schema (ECMA-262 and Python's ``re`` read it
#: alike): no refused control character, and at least one character that is
#: neither one nor whitespace (``str.strip()`` would leave nothing).
TEXT_PATTERN = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*"
    r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
)


@extend_schema_field({"type": "string", "maxLength": TEXT_MAX_LENGTH, "pattern": TEXT_PATTERN})
class NoteTextField(serializers.CharField):
    """A note's text: a string of 1 to 10,000 characters, stored stripped, with no control characters.

    Control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F)
    other than tab, line feed and carriage return are refused wherever they
    appear, before stripping, so a leading U+001F is refused like an inner one
    instead of being stripped away as whitespace. Everything else is kept as
    sent: emoji, joiners and other format characters, any script. The length
    is that of the text as sent, in Unicode code points, so the schema's
    ``maxLength`` is exact.
    """

    default_error_messages = {
        "invalid": _("Not a valid string."),
        # Django's and DRF's own messages, so their translations apply.
        "null_characters": _("Null characters are not allowed."),
        "surrogate_characters": _("Surrogate characters are not allowed: U+{code_point:X}."),
        "control_characters": _("Control characters are not allowed: U+{code_point:04X}."),
    }

    def __init__(self, **kwargs):
        super().__init__(max_length=TEXT_MAX_LENGTH, **kwargs)

    def run_validation(self, data=empty):
        if isinstance(data, str):
            if refused := _REFUSED.search(data):
                code_point = ord(refused.group())
                if code_point == 0:
                    self.fail("null_characters")
                if 0xD800 <= code_point <= 0xDFFF:
                    self.fail("surrogate_characters", code_point=code_point)
                self.fail("control_characters", code_point=code_point)
            if len(data) > TEXT_MAX_LENGTH:
                self.fail("max_length", max_length=TEXT_MAX_LENGTH)
        return super().run_validation(data)

    def to_internal_value(self, data):
        # DRF's CharField turns numbers into strings; a note's text is a string.
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _text_field() -> NoteTextField:
    return NoteTextField(
        help_text=_(
            "1 to 10,000 characters, stored stripped of leading and trailing whitespace. "
            "Control characters other than tab, line feed and carriage return are refused."
        ),
        style={"base_template": "textarea.html", "rows": 6},
    )


class NoteSerializer(serializers.ModelSerializer):
    """A note: its text, and when it was created and last changed. Only `text` is writable."""

    # Validates only: the view hands validated_data to notes.services.

    text = _text_field()

    class Meta:
        model = Note
        fields = list(NOTE_FIELDS)
        read_only_fields = ["id", "created_at", "updated_at"]


class NoteTextSerializer(serializers.Serializer):
    """The writable part of ``NoteSerializer`` alone, with the same field: the same
    validation and the same errors, without ``ModelSerializer`` building its fields
    from the model on every request (the create's lean path, bench/README.md)."""

    text = _text_field()


def note_document(values: Mapping) -> dict:
    """A note as ``NoteSerializer`` shows it, from a ``values()`` row: the list's lean path
    (no model instance and no serializer field per row; bench/README.md)."""
    return {
        "id": values["id"],
        "text": values["text"],
        "created_at": utc_iso(values["created_at"]),
        "updated_at": utc_iso(values["updated_at"]),
    }
