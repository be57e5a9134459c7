"""Bad input for every endpoint under load: schemathesis cases plus hostile raw bodies.

Most fuzzed requests are schemathesis cases: before the load starts,
``schema_cases`` draws positive and negative examples of every operation in
the live ``/api/schema/`` with Hypothesis (seeded, so a run can be replayed).
The rest are shapes that have broken Django APIs before and that a schema
does not describe: lone UTF-16 surrogates and NUL characters (PostgreSQL
refuses both in text), numbers out of any range, deep nesting, wrong or lying
content types, broken JSON and form bodies, empty bodies and bodies over the
size limit. Every answer must be a 2xx or a 4xx, as JSON, and nothing may be
half-written.
"""

from __future__ import annotations

import json
import random
import string
import urllib.parse

from reliability.workload import LoadUser

#: The share of fuzzed requests that are schemathesis cases; the rest are hand-made shapes.
SCHEMA_SHARE = 0.7

# (kind, method, path or None for a note path, fields the endpoint knows, needs a token)
ENDPOINTS = [
    ("signup", "POST", "/api/auth/signup/", ("username", "email", "password"), False),
    ("login", "POST", "/api/auth/login/", ("username", "password"), False),
    ("refresh", "POST", "/api/auth/refresh/", ("refresh",), False),
    ("logout", "POST", "/api/auth/logout/", ("refresh",), True),
    # Not "profile_update": a PATCH that changes nothing rightly records nothing.
    ("profile_patch", "PATCH", "/api/auth/me/", ("email", "username", "id", "is_admin"), True),
    ("password_change", "POST", "/api/auth/password/", ("old_password", "new_password"), True),
    ("note_create", "POST", "/api/notes/", ("text", "owner", "id"), True),
    # Not "note_update" either: an unchanged text writes and records nothing.
    ("note_patch", "PATCH", None, ("text", "owner", "id"), True),
    ("note_patch", "PUT", None, ("text", "owner", "id"), True),
    ("note_delete", "DELETE", None, (), True),
    ("promote", "POST", "/api/admin/users/{}/promote/", (), True),
]

STRINGS = [
    "",
    " ",
    "\t\n ",
    "a",
    "\x00",
    "abc\x00def",
    "\u202etxt.exe",
    "😀" * 50,
    "ß" * 151,
    "x" * 10_001,
    "y" * 4097,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%s%n",
    "user@example.com",
    "bad@",
    "Ω≈ç√∫",
]

CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zzz",
    "multipart/form-data",
    "text/plain",
    "application/xml",
]

RAW_BODIES = [
    b"",
    b"{",
    b'{"text": "',
    b"[]",
    b"null",
    b'"just a string"',
    b"NaN",
    b'{"text": NaN}',
    b'{"text": Infinity}',
    b'{"text": "\\ud800"}',
    b'{"username": "\\udfff\\ud800", "password": "\\ud83d"}',
    b'{"email": "a\\u0000b@example.com"}',
    b'{"text": 1e999}',
    b"\xff\xfe\x00\x00garbage",
    b"text=%00&owner=1",
    b"text=%ED%A0%80",
    b"username=%FF%FE&password=x",
    b'{"a":' * 200 + b"1" + b"}" * 200,
    b'--zzz\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n--zzz--\r\n',
    b"--zzz\r\nbroken",
]


def random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(STRINGS) if rng.random() < 0.6 else _random_text(rng)
    if roll < 0.45:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30, 3.5, -0.0, 1e308])
    if roll < 0.52:
        return rng.choice([True, False, None])
    if roll < 0.7 and depth < 3:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 3:
        return {_random_text(rng, 8): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return None


def _random_text(rng: random.Random, max_length: int = 40) -> str:
    alphabet = string.printable + "éßΩ😀\u0301\u200b\x00"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(max_length + 1)))


def _body(rng: random.Random, fields: tuple[str, ...]) -> tuple[bytes, str]:
    """A request body and the content type it is sent with."""
    roll = rng.random()
    if roll < 0.2:
        return rng.choice(RAW_BODIES), rng.choice(CONTENT_TYPES)
    if roll < 0.25:
        return b'{"text": "' + b"z" * (1024 * 1024 + 10) + b'"}', "application/json"
    document = {name: random_value(rng) for name in fields if rng.random() < 0.8}
    for _ in range(rng.randrange(3)):
        document[_random_text(rng, 12)] = random_value(rng)
    if roll < 0.35:
        from urllib.parse import urlencode

        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in document.items()}
        return urlencode(flat, encoding="utf-8", errors="surrogatepass").encode(), "application/x-www-form-urlencoded"
    encoded = json.dumps(document, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    content_type = "application/json" if rng.random() < 0.9 else rng.choice(CONTENT_TYPES)
    return encoded, content_type


#: The ledger's kind of each write operation (reliability/client.py WRITE_ACTIONS); a
#: PATCH or PUT may change nothing, so they are "note_patch", which expects no row.
SCHEMA_KINDS = {
    ("POST", "/api/auth/signup/"): "signup",
    ("POST", "/api/auth/login/"): "login",
    ("POST", "/api/auth/logout/"): "logout",
    ("PATCH", "/api/auth/me/"): "profile_patch",
    ("POST", "/api/auth/password/"): "password_change",
    ("POST", "/api/notes/"): "note_create",
    ("PUT", "/api/notes/{id}/"): "note_patch",
    ("PATCH", "/api/notes/{id}/"): "note_patch",
    ("DELETE", "/api/notes/{id}/"): "note_delete",
}
#: Operations a fuzzing user must not call: logging out everywhere would end the
#: fuzzing session itself, not test anything new.
SKIPPED_OPERATIONS = {("POST", "/api/auth/logout-all/")}


def live_schema_cases(base_url: str, *, per_operation: int, seed: int) -> list:
    """``schema_cases`` of the schema a live server publishes at ``/api/schema/``."""
    import schemathesis

    return schema_cases(schemathesis.openapi.from_url(f"{base_url}/api/schema/"), per_operation, seed)


def schema_cases(schema, per_operation: int, seed: int) -> list:
    """Positive and negative schemathesis cases of every operation of ``schema``, drawn by
    Hypothesis from ``seed``: the same seed draws the same cases."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import seed as hypothesis_seed
    from hypothesis import settings as hypothesis_settings

    cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED_OPERATIONS:
            continue
        for mode in schemathesis.GenerationMode:

            @hypothesis_seed(seed)
            @hypothesis_settings(
                max_examples=per_operation,
                phases=[Phase.generate],
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy(generation_mode=mode))
            def collect(case):
                cases.append(case)

            collect()
    return cases


def _send_case(user: LoadUser, rng: random.Random, case) -> None:
    from schemathesis.core import NotSet

    method = case.method.upper()
    kind = SCHEMA_KINDS.get((method, case.path), f"{method} {case.path}")
    parameters = dict(case.path_parameters or {})
    if "id" in parameters and "/notes/" in case.path and user.notes and rng.random() < 0.6:
        parameters["id"] = rng.choice(user.notes)
    path = case.path.format(**{name: urllib.parse.quote(str(value), safe="") for name, value in parameters.items()})
    if case.query:
        path += "?" + urllib.parse.urlencode(case.query, doseq=True, errors="surrogatepass")
    raw, content_type = None, ""
    if not isinstance(case.body, NotSet):
        content_type = case.media_type or "application/json"
        if isinstance(case.body, bytes):
            raw = case.body
        elif "json" in content_type:
            raw = json.dumps(case.body).encode("utf-8", "surrogatepass")
        elif isinstance(case.body, dict):
            raw = urllib.parse.urlencode(case.body, doseq=True, errors="surrogatepass").encode()
        else:
            raw = str(case.body).encode("utf-8", "surrogatepass")
    token = user.token if rng.random() < 0.9 else None
    _send(user, kind, method, path, token=token, raw=raw, content_type=content_type)


def _send(user: LoadUser, kind: str, method: str, path: str, **request) -> None:
    user.client.phase = "fuzz"
    record = user.client.request(kind, method, path, **request)
    if kind == "note_create" and record.ok and isinstance(record.json, dict):
        user.notes.append(record.json["id"])
    if kind == "note_delete" and record.ok:
        deleted = int(path.split("?")[0].strip("/").rsplit("/", 1)[1])
        if deleted in user.notes:
            user.notes.remove(deleted)


def send_one(user: LoadUser, rng: random.Random, cases: list) -> None:
    """One fuzzed request from ``user`` (phase "fuzz" in the ledger): a schemathesis case
    from ``cases`` or a hand-made hostile one."""
    if cases and rng.random() < SCHEMA_SHARE:
        _send_case(user, rng, rng.choice(cases))
        return
    kind, method, path, fields, needs_token = rng.choice(ENDPOINTS)
    if path is None:
        note = rng.choice(user.notes) if user.notes and rng.random() < 0.6 else rng.choice([0, 1, -1, 2**63, "abc"])
        path = f"/api/notes/{note}/"
    elif "{}" in path:
        path = path.format(rng.choice([1, 2, 999999, "x"]))
    raw, content_type = _body(rng, fields) if method != "DELETE" or rng.random() < 0.2 else (None, "")
    token = user.token if needs_token and rng.random() < 0.9 else None
    _send(user, kind, method, path, token=token, raw=raw, content_type=content_type)
