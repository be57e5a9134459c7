"""A small HTTP client for the live server: JSON requests, sign-up and login, loopback only."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


def loopback_only(url: str) -> str:
    """Refuses any target but this machine: requests are only ever sent to loopback."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "http" or parsed.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"liveserver: refusing to send requests to {url}; http on loopback only")
    return url


def http_json(method: str, url: str, body: dict | None = None, token: str | None = None, timeout: float = 120):
    """One request with urllib; returns (status, decoded JSON or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(loopback_only(url), data=data, method=method)  # noqa: S310 - http, loopback
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def sign_up(url: str, username: str, password: str) -> dict:
    """Signs ``username`` up through the API (email ``<username>@example.com``); the new user's JSON."""
    body = {"username": username, "email": f"{username}@example.com", "password": password}
    status, answer = http_json("POST", f"{url}/api/auth/signup/", body)
    if status != 201:
        raise RuntimeError(f"signup of {username} answered {status}: {answer}")
    return answer


def log_in(url: str, username: str, password: str) -> str:
    """Logs ``username`` in through the API; the access token."""
    status, answer = http_json("POST", f"{url}/api/auth/login/", {"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"login of {username} answered {status}: {answer}")
    return answer["access"]
