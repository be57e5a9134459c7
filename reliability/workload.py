"""Users that sign up, log in and write notes; bounded load from many threads."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable

from reliability.checks import LOAD_USER_PREFIX
from reliability.client import Client, Record


class LoadUser:
    """One API user of a scenario, with the ids of the notes it still has."""

    def __init__(self, client: Client, rng: random.Random | None = None):
        self.client = client
        self.rng = rng or random.Random()
        self.username = f"{LOAD_USER_PREFIX}{secrets.token_hex(6)}"
        self.password = secrets.token_urlsafe(18)
        self.token: str | None = None
        self.notes: list[int] = []

    def signup(self) -> Record:
        body = {"username": self.username, "email": f"{self.username}@example.com", "password": self.password}
        return self.client.request("signup", "POST", "/api/auth/signup/", body)

    def login(self) -> Record:
        record = self.client.request(
            "login", "POST", "/api/auth/login/", {"username": self.username, "password": self.password}
        )
        if record.ok and isinstance(record.json, dict):
            self.token = record.json.get("access")
        return record

    def join(self, attempts: int = 20) -> bool:
        """Signs up and logs in, retrying while the service is unavailable (bounded)."""
        for _ in range(attempts):
            record = self.signup()
            if record.ok or record.status == 400:  # 400: an earlier attempt already created it
                break
            time.sleep(0.5)
        for _ in range(attempts):
            if self.login().ok:
                return True
            time.sleep(0.5)
        return False

    def create_note(self) -> Record:
        record = self.client.request(
            "note_create", "POST", "/api/notes/", {"text": f"note {secrets.token_hex(8)}"}, token=self.token
        )
        if record.ok and isinstance(record.json, dict):
            self.notes.append(record.json["id"])
        return record

    def update_note(self) -> Record | None:
        if not self.notes:
            return None
        note = self.rng.choice(self.notes)
        return self.client.request(
            "note_update", "PATCH", f"/api/notes/{note}/", {"text": f"edited {secrets.token_hex(8)}"}, token=self.token
        )

    def delete_note(self) -> Record | None:
        if not self.notes:
            return None
        note = self.notes.pop(self.rng.randrange(len(self.notes)))
        record = self.client.request("note_delete", "DELETE", f"/api/notes/{note}/", token=self.token)
        if not record.ok and record.status != 404:
            self.notes.append(note)  # not deleted (or unknown): it may be tried again
        return record

    def list_notes(self) -> Record:
        return self.client.request("note_list", "GET", "/api/notes/?page_size=20", token=self.token)

    def read_note(self) -> Record | None:
        if not self.notes:
            return None
        return self.client.request("note_read", "GET", f"/api/notes/{self.rng.choice(self.notes)}/", token=self.token)

    def update_profile(self) -> Record:
        email = f"{self.username}+{secrets.token_hex(3)}@example.com"
        return self.client.request("profile_update", "PATCH", "/api/auth/me/", {"email": email}, token=self.token)

    def note_step(self) -> Record | None:
        """One note request, weighted like an editor's day: writes and reads."""
        roll = self.rng.random()
        if roll < 0.35 or not self.notes:
            return self.create_note()
        if roll < 0.55:
            return self.update_note()
        if roll < 0.65:
            return self.delete_note()
        if roll < 0.85:
            return self.list_notes()
        return self.read_note()


def run_threads(
    count: int, body: Callable[[int, threading.Event], None], *, seconds: float, stop: threading.Event | None = None
) -> threading.Event:
    """Runs ``body(index, stop)`` in ``count`` threads until ``seconds`` have passed (or ``stop`` is set).

    Each body must return when ``stop`` is set; the threads are joined before
    this returns, so no load outlives the call.
    """
    stop = stop or threading.Event()
    threads = [threading.Thread(target=body, args=(i, stop), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return stop


class Background:
    """Load in threads while the scenario does something else: ``with Background(...):``."""

    def __init__(self, count: int, body: Callable[[int, threading.Event], None], max_seconds: float = 300):
        self.stop = threading.Event()
        self.max_seconds = max_seconds
        self.threads = [threading.Thread(target=self._bounded, args=(body, i), daemon=True) for i in range(count)]

    def _bounded(self, body, index) -> None:
        timer = threading.Timer(self.max_seconds, self.stop.set)
        timer.daemon = True
        timer.start()
        try:
            body(index, self.stop)
        finally:
            timer.cancel()

    def __enter__(self) -> Background:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)
