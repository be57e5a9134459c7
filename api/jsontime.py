"""How the API's JSON writes a time: ISO 8601 in UTC with a ``Z``, as DRF does with TIME_ZONE=UTC."""

from datetime import UTC, datetime


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
