"""Error tracking with Sentry, off unless ``SENTRY_DSN`` is set (settings.py calls ``init``).

What leaves the process is decided here, not by Sentry's defaults alone:

- personal data is off (``data_collection``, which in this SDK supersedes the
  deprecated ``send_default_pii=False`` and says the same per category): no
  user id, email or client IP, no cookies, no query string, no SQL
  parameters, and credential-like header names are filtered.
- request bodies are never read (``http_bodies`` empty,
  ``max_request_body_size="never"``) and stack frames carry no local
  variables: either could hold a password, a token, a one-time code or a
  note's text.
- ``scrub`` (``before_send``) then walks the whole event: request cookies,
  body and query values go; any key that names a secret (passwords, tokens,
  codes, keys, note text, SQL parameters...) is replaced by ``[Filtered]``
  wherever it appears, and so is a value that looks like a JWT.
- breadcrumbs keep their message but lose their data (SQL parameters,
  audit log fields) in ``scrub_breadcrumb``.

Every event is tagged with the request id (``X-Request-ID``), so it can be
matched with the JSON request log and the audit trail.
"""

import re

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

from devlab import context

FILTERED = "[Filtered]"

#: Key names whose values never leave: these anywhere in the name, ignoring case...
SENSITIVE_PART = re.compile(r"pass|pwd|secret|token|cookie|csrf|authorization|apikey|credential", re.IGNORECASE)
#: ...or one of these words in it (``note_text``, ``db.params``, ``X-Forwarded-For``), but not
#: ``contexts`` or ``context_line``, which Sentry needs.
SENSITIVE_WORDS = frozenset(
    {"access", "refresh", "auth", "session", "sessionid", "code", "otp", "totp", "mfa", "recovery", "key", "uid"}
    | {"signature", "text", "body", "params", "dsn", "forwarded", "email"}
)
_WORD = re.compile(r"[a-z0-9]+")
#: A JSON Web Token (header.payload.signature, base64url): a bearer credential wherever it turns up.
JWT = re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")


def sensitive(key) -> bool:
    """Whether a value under this key name must not leave."""
    key = str(key)
    return bool(SENSITIVE_PART.search(key)) or not SENSITIVE_WORDS.isdisjoint(_WORD.findall(key.lower()))


def _scrub_value(value):
    if isinstance(value, dict):
        return {key: FILTERED if sensitive(key) else _scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(item) for item in value]
    if isinstance(value, str):
        return JWT.sub(FILTERED, value)
    return value


def _scrub_query(query) -> str:
    """Keeps the parameter names of a query string, never the values (a search term is note text)."""
    if isinstance(query, list | tuple):  # Sentry may send [[name, value], ...]
        names = [str(pair[0]) for pair in query if pair]
    else:
        names = [part.split("=", 1)[0] for part in str(query or "").split("&") if part]
    return "&".join(f"{name}={FILTERED}" for name in names)


def scrub(event: dict, hint=None) -> dict:
    """``before_send``: the event as it may leave (see the module docstring)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        if request.get("query_string"):
            request["query_string"] = _scrub_query(request["query_string"])
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
        if isinstance(request.get("headers"), dict):
            request["headers"] = {
                name: FILTERED if sensitive(name) else value for name, value in request["headers"].items()
            }
    event.pop("user", None)
    for frame_holder in _exception_values(event):
        for frame in (frame_holder.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    scrubbed = _scrub_value(event)
    ctx = context.current()
    if ctx is not None and ctx.request_id:
        scrubbed.setdefault("tags", {})["request_id"] = ctx.request_id
    return scrubbed


def _exception_values(event: dict) -> list:
    values = (event.get("exception") or {}).get("values") or []
    threads = (event.get("threads") or {}).get("values") or []
    return [*values, *threads]


def scrub_breadcrumb(crumb: dict, hint=None) -> dict:
    """``before_breadcrumb``: the message stays (SQL with placeholders, a log line), the data goes."""
    crumb.pop("data", None)
    if isinstance(crumb.get("message"), str):
        crumb["message"] = JWT.sub(FILTERED, crumb["message"])
    return crumb


def init(*, dsn: str, environment: str, release: str, traces_sample_rate: float = 0.0, **options) -> None:
    """Starts the Sentry SDK with the Django integration and the scrubbing above.

    ``options`` go to ``sentry_sdk.init`` as they are (tests pass a ``transport``)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration()],
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": ["cookie", "forwarded", "real-ip", "csrf"]}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
        },
        max_request_body_size="never",
        include_local_variables=False,
        before_send=scrub,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=traces_sample_rate,
        **options,
    )
