"""api.renderers.JSONRenderer writes the very bytes DRF's JSONRenderer writes, faster."""

import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from api.renderers import JSONRenderer

WHEN = datetime.datetime(2026, 12, 3, 11, 57, 32, 495278, tzinfo=datetime.UTC)

# Callables: a generator can be rendered once only.
SAME_AS_DRF = {
    "a page of notes": lambda: {
        "next": "http://testserver/api/notes/?cursor=abc",
        "previous": None,
        "results": [
            {"id": n, "text": "Benchmark note", "created_at": "2026-12-03T11:57:32.495278Z"} for n in range(20)
        ],
    },
    "validation errors": lambda: ReturnDict(
        {"text": [ErrorDetail("This field may not be blank.", code="blank")]}, serializer=None
    ),
    "a lazy translation": lambda: {"detail": gettext_lazy("Not found.")},
    "times, as DRF writes them": lambda: {"at": WHEN, "day": WHEN.date(), "time": WHEN.time()},
    "decimal and uuid": lambda: {"amount": decimal.Decimal("1.50"), "id": uuid.UUID(int=7)},
    "non-ASCII and line separators": lambda: {"text": "Grüße \u2028 und \u2029 ✓ 🙂"},
    "a list body": lambda: ReturnList([1, "two", True, None, 2.5], serializer=None),
    "a generator": lambda: {"items": (n * n for n in range(3))},
    "an integer beyond 64 bits": lambda: {"n": 2**70},
    "keys that are not strings": lambda: {1: "one", None: "none"},
    "an empty body": lambda: None,
}


@pytest.mark.parametrize("data", SAME_AS_DRF.values(), ids=SAME_AS_DRF.keys())
def test_writes_the_bytes_drf_writes(data):
    ours = JSONRenderer().render(data(), "application/json")
    drfs = renderers.JSONRenderer().render(data(), "application/json")
    assert ours == drfs


def test_keeps_drfs_indentation_when_asked_for():
    data = {"a": [1, 2]}
    ours = JSONRenderer().render(data, "application/json; indent=4")
    assert ours == renderers.JSONRenderer().render(data, "application/json; indent=4")
    assert b"\n    " in ours


def test_line_separators_are_escaped_for_javascript():
    assert JSONRenderer().render({"t": "a\u2028b\u2029c"}) == b'{"t":"a\\u2028b\\u2029c"}'


@pytest.mark.django_db
def test_the_api_answers_through_it(user_client):
    response = user_client.get("/api/notes/")

    assert type(response.accepted_renderer) is JSONRenderer
    assert response.content == renderers.JSONRenderer().render(response.data)
