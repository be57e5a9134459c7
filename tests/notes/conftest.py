"""Fixtures of the notes tests: URLs, a bearer client and a clock that the tests set."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

NOTES_URL = "/api/notes/"


def note_url(pk: int) -> str:
    return f"{NOTES_URL}{pk}/"


def bearer(user) -> APIClient:
    """A client that sends a real access token, as API clients do."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


class Clock:
    """``timezone.now()`` as the test sets it: what ``auto_now(_add)`` stamps on notes."""

    def __init__(self):
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock
