"""Fixtures of the audit tests: the mirror's log lines and a request context."""

import json
import logging

import pytest

from devlab import context
from devlab.logging import JsonFormatter


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def audit_log():
    """The JSON lines written to the ``audit`` logger (which does not propagate to caplog)."""
    handler = _Lines()
    logger = logging.getLogger("audit")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def request_context():
    """A request context as RequestContextMiddleware sets it."""
    ctx = context.RequestContext(request_id="req-123", ip="203.0.113.9", user_agent="pytest-agent/1.0")
    token = context.activate(ctx)
    try:
        yield ctx
    finally:
        context.deactivate(token)
