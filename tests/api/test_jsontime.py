"""api.jsontime.utc_iso writes a time as DRF's DateTimeField does with TIME_ZONE=UTC."""

import datetime
import zoneinfo

import pytest
from rest_framework.fields import DateTimeField

from api.jsontime import utc_iso

TIMES = {
    "UTC, microseconds": datetime.datetime(2026, 12, 3, 11, 57, 32, 495278, tzinfo=datetime.UTC),
    "UTC, whole seconds": datetime.datetime(2026, 12, 3, 11, 57, 32, tzinfo=datetime.UTC),
    "another time zone": datetime.datetime(2026, 7, 1, 9, 0, 0, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
    "a fixed offset": datetime.datetime(2026, 1, 1, 0, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
}


@pytest.mark.parametrize("value", TIMES.values(), ids=TIMES.keys())
def test_writes_what_drfs_field_writes(value, settings):
    settings.TIME_ZONE = "UTC"
    assert utc_iso(value) == DateTimeField().to_representation(value)


def test_another_time_zone_is_written_in_utc():
    assert utc_iso(TIMES["another time zone"]) == "2026-07-01T07:00:00.000001Z"
