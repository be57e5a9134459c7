"""The audit chain: canonical serialisation and HMAC, as pure functions.

Nothing here touches the database or Django settings, so that an auditor can
check this module against the specification below and re-implement
``verify`` in any language from a plain export of the table.

Specification (version 1)
-------------------------
Rows are chained in ascending ``id`` order. For each row::

    hash = hex(HMAC-SHA256(key, prev_hash_ascii || canonical_json(row)))

- ``key``: the bytes of ``AUDIT_SIGNING_KEY`` (UTF-8) when it is set; else
  ``HMAC-SHA256(key=SECRET_KEY as UTF-8, msg=b"devlab.audit.signing-key")``,
  the raw 32-byte digest (see ``derive_key``).
- ``prev_hash_ascii``: the row's ``prev_hash`` as 64 lower-case hex
  characters. The first row's ``prev_hash`` is ``GENESIS`` (64 zeros); every
  other row's ``prev_hash`` equals the ``hash`` of the row before it.
- ``canonical_json(row)``: a JSON object with exactly these ten members,
  keys sorted, no whitespace (``,`` and ``:`` separators), UTF-8, non-ASCII
  characters written as themselves (not ``\\u`` escapes)::

      action          string
      actor_id        integer or null
      actor_username  string
      created_at      string, UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always 6 digits)
      detail          string
      ip              null, or the address fully expanded: IPv4 as a dotted
                      quad ("192.0.2.1"), IPv6 as eight groups of four
                      lower-case hex digits ("2001:0db8:0000:...:0001"), so
                      that however a database prints an address, it hashes
                      the same
      request_id      string
      target_id       integer or null
      target_type     string ("user", "note") or null
      user_agent      string

  For these value types this is exactly the JSON Canonicalization Scheme
  (RFC 8785): Python's ``json.dumps(obj, sort_keys=True,
  separators=(",", ":"), ensure_ascii=False).encode("utf-8")``.

``id`` is not hashed: it is the row's position, and the position is already
bound by ``prev_hash``. ``prev_hash`` is bound by being the HMAC's prefix.

What a verifier concludes, row by row (the first failure is reported):
a ``hash`` that does not match the row means the row was changed (or its
hash was, or it was forged without the key); a ``prev_hash`` that does not
match the previous row's ``hash`` means a row was deleted before it or a row
was inserted; a first row whose ``prev_hash`` is not ``GENESIS`` means the
oldest rows were deleted. Removing the newest rows leaves a valid, shorter
chain: anchor the head (``verify_audit`` prints it) somewhere else to catch
that.
"""

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

GENESIS = "0" * 64

#: The fields that are hashed, in the order the canonical JSON sorts them.
HASHED_FIELDS = (
    "action",
    "actor_id",
    "actor_username",
    "created_at",
    "detail",
    "ip",
    "request_id",
    "target_id",
    "target_type",
    "user_agent",
)

_KEY_DERIVATION_MESSAGE = b"devlab.audit.signing-key"


def derive_key(secret_key: str) -> bytes:
    """The chain key used when ``AUDIT_SIGNING_KEY`` is unset."""
    return hmac.new(secret_key.encode("utf-8"), _KEY_DERIVATION_MESSAGE, hashlib.sha256).digest()


def canonical_timestamp(value: datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# An IPv4 address already in its exploded form (no leading zeros): most rows.
_EXPLODED_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


def canonical_ip(value: str | None) -> str | None:
    """An IP address fully expanded, or None."""
    if value is None or value == "":
        return None
    if _EXPLODED_IPV4.fullmatch(value):
        return value
    return ipaddress.ip_address(value).exploded


def canonical_json(fields: Mapping) -> bytes:
    """The canonical serialisation of a row's hashed fields (see the module docstring)."""
    document = {
        "action": fields["action"],
        "actor_id": fields["actor_id"],
        "actor_username": fields["actor_username"],
        "created_at": canonical_timestamp(fields["created_at"]),
        "detail": fields["detail"],
        "ip": canonical_ip(fields["ip"]),
        "request_id": fields["request_id"],
        "target_id": fields["target_id"],
        "target_type": fields["target_type"],
        "user_agent": fields["user_agent"],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(key: bytes, prev_hash: str, fields: Mapping) -> str:
    """The hash of a row whose predecessor's hash is ``prev_hash``."""
    message = prev_hash.encode("utf-8") + canonical_json(fields)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def hash_matches(key: bytes, prev_hash: str, fields: Mapping, stored_hash: str) -> bool:
    """Whether ``stored_hash`` is the hash of this row (constant-time comparison)."""
    return hmac.compare_digest(entry_hash(key, prev_hash, fields).encode("ascii"), stored_hash.encode("utf-8"))
