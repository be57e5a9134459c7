"""Rotating AUDIT_SIGNING_KEY: older rows verify with AUDIT_PREVIOUS_SIGNING_KEYS, and only forwards."""

import pytest

from audit.models import Action
from audit.services import REASON_HASH, REASON_OLD_KEY, VerifyResult, audit_record, audit_verify

pytestmark = pytest.mark.django_db

FIRST, SECOND, THIRD = "first-audit-key", "second-audit-key", "third-audit-key"


def _rows(user, count):
    return [audit_record(action=Action.LOGOUT, actor=user, target=user) for _ in range(count)]


@pytest.fixture
def rotated(settings, user, request_context):
    """Two rows under FIRST, then a rotation to SECOND and two rows under it."""
    settings.AUDIT_SIGNING_KEY = FIRST
    old = _rows(user, 2)
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PREVIOUS_SIGNING_KEYS = SECOND, [FIRST]
    return old + _rows(user, 2)


def test_rows_signed_before_a_rotation_verify_with_the_previous_key(rotated):
    assert audit_verify() == VerifyResult(ok=True, checked=4)


def test_without_the_previous_key_the_first_row_is_named(rotated, settings):
    settings.AUDIT_PREVIOUS_SIGNING_KEYS = []
    assert audit_verify() == VerifyResult(ok=False, checked=1, first_bad_id=rotated[0].pk, reason=REASON_HASH)


def test_keys_from_several_rotations_verify_newest_first(rotated, settings, user):
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_PREVIOUS_SIGNING_KEYS = THIRD, [SECOND, FIRST]
    _rows(user, 2)
    assert audit_verify() == VerifyResult(ok=True, checked=6)


def test_a_row_signed_with_a_previous_key_after_the_rotation_is_named(rotated, settings, user):
    # Someone holding the retired key appends a row that links correctly.
    settings.AUDIT_SIGNING_KEY = FIRST
    (forged,) = _rows(user, 1)
    settings.AUDIT_SIGNING_KEY = SECOND
    assert audit_verify() == VerifyResult(ok=False, checked=5, first_bad_id=forged.pk, reason=REASON_OLD_KEY)


def test_an_unknown_key_is_still_a_broken_hash(rotated, settings, user):
    settings.AUDIT_SIGNING_KEY = "a-key-nobody-configured"
    (stranger,) = _rows(user, 1)
    settings.AUDIT_SIGNING_KEY = SECOND
    assert audit_verify() == VerifyResult(ok=False, checked=5, first_bad_id=stranger.pk, reason=REASON_HASH)
