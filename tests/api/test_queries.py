"""``api.queries``: a queryset shape compiled once, run with other values, reads as the ORM does."""

import pytest

from accounts.models import User
from api import queries
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def by_username():
    return User.objects.filter(username="placeholder").values("id", "username", "date_joined", "is_active")


def test_a_compiled_query_returns_the_rows_its_queryset_would_with_other_values():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    query = queries.CompiledQuery(by_username())
    for user in (alice, bob):
        (row,) = query.rows([user.username])
        expected = User.objects.filter(pk=user.pk).values("id", "username", "date_joined", "is_active").get()
        assert dict(zip(query.names, row, strict=True)) == expected


def test_times_come_back_as_aware_datetimes_on_every_database():
    user = UserFactory(username="carol")
    (row,) = queries.CompiledQuery(by_username()).rows([user.username])
    assert row[2] == user.date_joined
    assert row[2].tzinfo is not None


def test_a_shape_is_compiled_once_per_key():
    built = []

    def build():
        built.append(1)
        return by_username()

    first = queries.compiled(("test_shape", "once"), build)
    assert queries.compiled(("test_shape", "once"), build) is first
    assert built == [1]
