"""Helpers shared by the accounts tests: signal capture, logins, parallel requests."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections
from django.dispatch import Signal
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD

SIGNUP_URL = "/api/auth/signup/"
LOGIN_URL = "/api/auth/login/"
REFRESH_URL = "/api/auth/refresh/"
LOGOUT_URL = "/api/auth/logout/"
LOGOUT_ALL_URL = "/api/auth/logout-all/"
ME_URL = "/api/auth/me/"
PASSWORD_URL = "/api/auth/password/"


@contextmanager
def capture(signal: Signal) -> Iterator[list[dict]]:
    """Collects the kwargs (and ``sender``) of every send of ``signal`` inside the block."""
    calls: list[dict] = []

    def receiver(sender, signal, **kwargs):
        calls.append({"sender": sender, **kwargs})

    signal.connect(receiver, weak=False)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def full_width(text: str) -> str:
    """``text`` in full-width forms ("alice" -> U+FF41 U+FF4C ...), which NFKC folds back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def log_in(client: APIClient, username: str, password: str = DEFAULT_PASSWORD, **extra):
    """POSTs a JSON login and returns the response."""
    return client.post(LOGIN_URL, {"username": username, "password": password}, format="json", **extra)


def token_pair(username: str, password: str = DEFAULT_PASSWORD) -> dict:
    """Logs in through the API and returns the body (``access``, ``refresh``, ...)."""
    response = log_in(APIClient(), username, password)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    """A client that sends ``Authorization: Bearer <access>``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def in_parallel(count: int, request: Callable[[APIClient, int], object]) -> list:
    """Runs ``request(client, index)`` in ``count`` threads released together; returns the results.

    Each thread has its own client and database connection, closed at the end.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            client = APIClient()
            barrier.wait(timeout=10)
            results[index] = request(client, index)
        except Exception as exc:  # reported to the test as a result
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
