"""The refresh-token pages of the admin site: read-only, superusers only, never a token (issue #20)."""

import re

import pytest
from django.contrib.auth.models import Permission
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.tokens import RefreshToken
from tests.accounts.helpers import token_pair
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OUTSTANDING = "/admin/token_blacklist/outstandingtoken/"
BLACKLISTED = "/admin/token_blacklist/blacklistedtoken/"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def panel(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def sessions(user):
    """Two refresh tokens of alice, the first revoked; returns their texts."""
    first, second = token_pair("alice")["refresh"], token_pair("alice")["refresh"]
    RefreshToken(first).blacklist()
    return first, second


def pages(outstanding: OutstandingToken, blacklisted: BlacklistedToken) -> list[str]:
    return [
        OUTSTANDING,
        f"{OUTSTANDING}{outstanding.pk}/change/",
        BLACKLISTED,
        f"{BLACKLISTED}{blacklisted.pk}/change/",
    ]


def test_superuser_sees_jti_user_times_and_revocation_but_never_a_token(panel, sessions):
    blacklisted = BlacklistedToken.objects.get()
    outstanding = OutstandingToken.objects.exclude(pk=blacklisted.token_id).get()
    for url in pages(outstanding, blacklisted):
        response = panel.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not JWT.search(html), url
        for token in sessions:
            assert token not in html
    listing = panel.get(OUTSTANDING).content.decode()
    for row in OutstandingToken.objects.all():
        assert row.jti in listing
    assert "alice" in listing
    assert "column-blacklisted" in listing
    assert "column-expires_at" in listing


def test_token_change_pages_are_read_only_and_offer_no_save_or_delete(panel, sessions):
    blacklisted = BlacklistedToken.objects.get()
    for url in pages(blacklisted.token, blacklisted)[1::2]:
        html = panel.get(url).content.decode()
        assert 'name="_save"' not in html
        assert "/delete/" not in html
        assert "<textarea" not in html


@pytest.mark.parametrize("base", [OUTSTANDING, BLACKLISTED])
def test_nobody_adds_changes_or_deletes_token_records(panel, sessions, base):
    blacklisted = BlacklistedToken.objects.get()
    pk = blacklisted.token_id if base == OUTSTANDING else blacklisted.pk
    assert panel.get(f"{base}add/").status_code == 403
    assert panel.post(f"{base}{pk}/change/", {"jti": "forged", "token": "x"}).status_code == 403
    assert panel.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
    response = panel.post(base, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    assert response.status_code in (200, 302)
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.filter(jti="forged").count() == 0


def test_blacklisting_shows_in_the_outstanding_list(panel, sessions):
    services.user_revoke_tokens(user=OutstandingToken.objects.first().user)
    html = panel.get(OUTSTANDING).content.decode()
    assert html.count('alt="True"') == 2


def test_search_finds_tokens_by_username_and_exact_jti(panel, sessions, other_user):
    token_pair("bob")
    bobs = OutstandingToken.objects.get(user=other_user)
    html = panel.get(OUTSTANDING, {"q": "bob"}).content.decode()
    assert bobs.jti in html
    assert "alice" not in html.split("result_list")[-1]
    html = panel.get(OUTSTANDING, {"q": bobs.jti}).content.decode()
    assert bobs.jti in html


@pytest.mark.parametrize("url", [OUTSTANDING, BLACKLISTED, "/admin/token_blacklist/"])
def test_staff_in_the_administrators_group_do_not_see_token_records_even_with_the_permissions(client, sessions, url):
    admin = services.user_promote(actor=None, user=UserFactory(username="helper"))
    client.force_login(admin)
    assert client.get(url).status_code in (403, 404)
    # Even a model permission granted by mistake opens nothing: the pages are for superusers.
    admin.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="token_blacklist", codename__startswith="view_")
    )
    assert client.get(url).status_code in (403, 404)
    assert "token_blacklist" not in client.get("/admin/").content.decode()


def test_superuser_index_lists_the_token_models(panel):
    index = panel.get("/admin/").content.decode()
    assert OUTSTANDING in index
    assert BLACKLISTED in index
