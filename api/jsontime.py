"""How the API's JSON writes a time: ISO 8601 in UTC with a ``Z``, as DRF does with TIME_ZONE=UTC."""

from datetime import UTC, datetime


def utc_iso(value: datetime) -> str:
    # Times read from the database are in UTC already (the connection's time zone).
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"
