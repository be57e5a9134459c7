"""HTTP on loopback, and the ledger of every request a scenario sent.

Each request carries its own ``X-Request-ID``; DevLab stores it on the audit
rows the request wrote, so afterwards every acknowledged (2xx) write can be
matched with exactly the row it must have produced, and every refused one
with the absence of such a row.
"""

from __future__ import annotations

import http.client
import itertools
import json
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

#: The audit action an acknowledged write must have recorded, by (method, route kind).
WRITE_ACTIONS = {
    "signup": "signup",
    "login": "login_success",
    "note_create": "note_created",
    "note_update": "note_updated",
    "note_delete": "note_deleted",
    "profile_update": "profile_updated",
    "password_change": "password_changed",
    "logout": "logout",
}

_counter = itertools.count(1)


@dataclass
class Record:
    """One request and what came back; ``status`` 0 means no HTTP answer at all."""

    kind: str
    method: str
    path: str
    request_id: str
    status: int = 0
    error: str = ""
    json: object = None
    content_type: str = ""
    retry_after: str | None = None
    upstream: str = ""
    started: float = 0.0
    finished: float = 0.0
    phase: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def outcome_unknown(self) -> bool:
        """No answer from DevLab itself: the connection broke, or a proxy said its upstream died.

        Such a write may have committed just before its replica died (and is
        then whole), or not at all; only DevLab's own answers are definite.
        """
        return self.status == 0 or (self.status in (502, 504) and not self.is_json)

    @property
    def expected_action(self) -> str | None:
        return WRITE_ACTIONS.get(self.kind)

    @property
    def is_json(self) -> bool:
        return self.content_type.startswith("application/json")


@dataclass
class Ledger:
    """Thread-safe list of every request a scenario sent."""

    records: list[Record] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, record: Record) -> None:
        with self._lock:
            self.records.append(record)

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self.records)

    def counts(self) -> Counter:
        counts = Counter()
        for record in self.snapshot():
            counts["sent"] += 1
            bucket = "err" if record.status == 0 else f"{record.status // 100}xx"
            counts[bucket] += 1
        return counts

    def acknowledged_writes(self) -> list[Record]:
        return [r for r in self.snapshot() if r.ok and r.expected_action]


def new_request_id(tag: str) -> str:
    return f"rel-{tag}-{next(_counter)}-{secrets.token_hex(4)}"


class Client:
    """Sends one request per connection (no stale keep-alive sockets) to a loopback server.

    ``source`` binds the client side to another loopback address (any of
    127.0.0.0/8 works on Linux), so that a proxy sees a client other than itself.
    """

    def __init__(self, base_url: str, ledger: Ledger, tag: str, source: str | None = None, timeout: float = 30):
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme != "http" or parsed.hostname not in LOOPBACK:
            raise SystemExit(f"reliability: refusing to send requests to {base_url}; http on loopback only")
        if source is not None and not source.startswith("127."):
            raise SystemExit(f"reliability: source address {source} is not loopback")
        self.host, self.port = parsed.hostname, parsed.port
        self.ledger, self.tag, self.source, self.timeout = ledger, tag, source, timeout
        self.phase = ""

    def request(
        self,
        kind: str,
        method: str,
        path: str,
        body=None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> Record:
        record = Record(kind=kind, method=method, path=path, request_id=new_request_id(self.tag), phase=self.phase)
        sent_headers = {"Accept": "application/json", "X-Request-ID": record.request_id, "Connection": "close"}
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if payload is not None:
            sent_headers["Content-Type"] = content_type
        if token:
            sent_headers["Authorization"] = f"Bearer {token}"
        sent_headers.update(headers or {})
        source = (self.source, 0) if self.source else None
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout, source_address=source)
        record.started = time.monotonic()
        try:
            connection.request(method, path, body=payload, headers=sent_headers)
            response = connection.getresponse()
            data = response.read()
            record.status = response.status
            record.content_type = response.getheader("Content-Type", "")
            record.retry_after = response.getheader("Retry-After")
            record.upstream = response.getheader("X-Upstream", "")
            if data and record.is_json:
                try:
                    record.json = json.loads(data)
                except ValueError:
                    record.error = "invalid JSON body"
        except (OSError, http.client.HTTPException) as exc:
            record.error = type(exc).__name__
        finally:
            connection.close()
            record.finished = time.monotonic()
        self.ledger.add(record)
        return record
