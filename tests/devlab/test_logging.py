"""One JSON line per request, with the request id and client IP, and no secrets."""

import json
import logging

import pytest

from devlab.logging import JsonFormatter

pytestmark = pytest.mark.django_db


def _request_lines(caplog):
    return [r for r in caplog.records if r.name == "devlab.request"]


def test_each_request_writes_one_line_with_its_facts(client, caplog):
    caplog.set_level(logging.INFO, logger="devlab.request")
    client.get("/api/missing/", HTTP_X_REQUEST_ID="log-me", REMOTE_ADDR="198.51.100.4")
    (record,) = _request_lines(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "GET"
    assert line["path"] == "/api/missing/"
    assert line["status"] == 404
    assert line["request_id"] == "log-me"
    assert line["ip"] == "198.51.100.4"
    assert isinstance(line["duration_ms"], float)


def test_authorization_header_and_query_never_reach_the_log(client, caplog):
    caplog.set_level(logging.INFO)
    client.get("/api/missing/?token=SECRET-IN-QUERY", HTTP_AUTHORIZATION="Bearer SECRET-IN-HEADER")
    # django.request's own records go to a NullHandler (settings.LOGGING).
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.name != "django.request")
    assert "SECRET-IN-HEADER" not in text
    assert "SECRET-IN-QUERY" not in text


def test_unhandled_errors_are_logged_with_the_traceback_and_request_id(caplog):
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("devlab.errors").makeRecord(
            "devlab.errors", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info()
        )
    line = json.loads(formatter.format(record))
    assert line["level"] == "ERROR"
    assert "ValueError: boom" in line["exception"]
