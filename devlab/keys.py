"""Rules for the secret keys, used by settings.py before Django is set up.

Nothing here imports Django: settings.py calls these while it is being
imported. The thresholds are Django's own deploy check (security.W009,
``django.core.checks.security.base``); tests/devlab/test_keys.py keeps them equal.
"""

import hashlib
import hmac

# Django's security.W009 thresholds.
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
INSECURE_PREFIX = "django-insecure-"

#: Placeholders shipped in example files (.env.example, now and before):
#: whoever has read the repository knows them, so they are refused whatever their length.
PLACEHOLDERS = frozenset(
    {
        "change-me-to-a-long-random-string",
        "generate-one-with-python3-c-import-secrets-print-secrets-token-urlsafe-50",
    }
)

#: The labels that separate the keys derived from SECRET_KEY (the audit chain's is in audit/chain.py).
JWT_KEY_LABEL = b"devlab.jwt.signing-key"


def weakness(key: str) -> str | None:
    """Why ``key`` cannot be a production key, or None when it can."""
    if key in PLACEHOLDERS:
        return "it is the placeholder of an example file"
    if key.startswith(INSECURE_PREFIX):
        return f"it starts with {INSECURE_PREFIX!r}"
    if len(key) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"it has fewer than {MIN_UNIQUE_CHARACTERS} distinct characters"
    return None


def derive(secret_key: str, label: bytes) -> str:
    """A key of its own for one use, derived from ``secret_key``:
    ``hex(HMAC-SHA256(key=secret_key as UTF-8, msg=label))``."""
    return hmac.new(secret_key.encode("utf-8"), label, hashlib.sha256).hexdigest()
