"""The chain's canonical serialisation and HMAC, exactly as audit/chain.py documents them."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit import chain

ROW = {
    "action": "signup",
    "actor_id": 7,
    "actor_username": "alice",
    "created_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    "detail": "",
    "ip": "192.0.2.1",
    "request_id": "r1",
    "target_id": 7,
    "target_type": "user",
    "user_agent": "ua",
}
KEY = b"test-key"


def test_canonical_json_is_sorted_compact_utf8_with_fixed_time_format():
    assert chain.canonical_json(ROW) == (
        b'{"action":"signup","actor_id":7,"actor_username":"alice","created_at":"2024-05-01T12:00:00.000000Z",'
        b'"detail":"","ip":"192.0.2.1","request_id":"r1","target_id":7,"target_type":"user","user_agent":"ua"}'
    )


def test_the_hash_is_hmac_sha256_over_prev_hash_then_canonical_json():
    expected = hmac.new(KEY, chain.GENESIS.encode() + chain.canonical_json(ROW), hashlib.sha256).hexdigest()
    assert chain.entry_hash(KEY, chain.GENESIS, ROW) == expected


def test_genesis_is_sixty_four_zeros():
    assert chain.GENESIS == "0" * 64


def test_non_ascii_text_is_written_as_utf8_not_escaped():
    document = chain.canonical_json({**ROW, "detail": "ação 🎉"})
    assert "ação 🎉".encode() in document


def test_times_are_hashed_in_utc_whatever_their_zone():
    local = ROW["created_at"].astimezone(timezone(timedelta(hours=-3)))
    assert chain.canonical_json({**ROW, "created_at": local}) == chain.canonical_json(ROW)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        chain.canonical_json({**ROW, "created_at": datetime(2024, 5, 1, 12, 0)})


@pytest.mark.parametrize(
    ("written", "read_back"),
    [
        ("::ffff:1.2.3.4", "::ffff:102:304"),
        ("2001:db8::1", "2001:DB8:0:0:0:0:0:1"),
    ],
)
def test_an_ip_hashes_the_same_however_it_is_printed(written, read_back):
    assert chain.canonical_json({**ROW, "ip": written}) == chain.canonical_json({**ROW, "ip": read_back})


def test_ipv6_is_hashed_fully_expanded():
    assert b'"ip":"2001:0db8:0000:0000:0000:0000:0000:0001"' in chain.canonical_json({**ROW, "ip": "2001:db8::1"})


def test_no_ip_is_null():
    assert b'"ip":null' in chain.canonical_json({**ROW, "ip": None})


@pytest.mark.parametrize("field", sorted(set(chain.HASHED_FIELDS) - {"created_at"}))
def test_changing_any_hashed_field_changes_the_hash(field):
    changed = {**ROW, field: {"actor_id": 8, "target_id": 8, "ip": "192.0.2.2"}.get(field, "changed")}
    assert chain.entry_hash(KEY, chain.GENESIS, changed) != chain.entry_hash(KEY, chain.GENESIS, ROW)


def test_changing_the_time_by_a_microsecond_changes_the_hash():
    later = {**ROW, "created_at": ROW["created_at"] + timedelta(microseconds=1)}
    assert chain.entry_hash(KEY, chain.GENESIS, later) != chain.entry_hash(KEY, chain.GENESIS, ROW)


def test_the_previous_hash_is_bound_into_the_hash():
    assert chain.entry_hash(KEY, "1" * 64, ROW) != chain.entry_hash(KEY, chain.GENESIS, ROW)


def test_another_key_gives_another_hash():
    assert chain.entry_hash(b"other", chain.GENESIS, ROW) != chain.entry_hash(KEY, chain.GENESIS, ROW)


def test_the_derived_key_is_an_hmac_of_the_secret_key():
    expected = hmac.new(b"s3cret", b"devlab.audit.signing-key", hashlib.sha256).digest()
    assert chain.derive_key("s3cret") == expected


def test_hash_matches_accepts_the_right_hash_and_rejects_others():
    good = chain.entry_hash(KEY, chain.GENESIS, ROW)
    assert chain.hash_matches(KEY, chain.GENESIS, ROW, good)
    assert not chain.hash_matches(KEY, chain.GENESIS, ROW, "0" * 64)
    assert not chain.hash_matches(KEY, chain.GENESIS, ROW, "é" * 64)


@pytest.mark.parametrize("value", ["192.168.001.1", "256.1.1.1", "1.2.3"])
def test_something_that_is_not_an_address_cannot_be_serialised(value):
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        chain.canonical_ip(value)
