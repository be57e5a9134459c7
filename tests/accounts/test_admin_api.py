"""/api/admin/users/: list, promote, demote; admins only."""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.accounts.helpers import bearer, token_pair
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/admin/users/"


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401


def test_non_admin_is_403_and_audited(user_client, user):
    response = user_client.get(URL)
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action="access_denied")
    assert entry.actor_id == user.pk
    assert entry.detail == f"GET {URL}"


def test_admin_lists_users_paginated(admin_api_client, user, other_user):
    body = admin_api_client.get(URL).json()
    assert set(body) == {"next", "previous", "results"}
    assert {u["username"] for u in body["results"]} >= {"alice", "bob", "root"}
    assert "password" not in body["results"][0]


def test_search_matches_username_or_email(admin_api_client, user, other_user):
    UserFactory(username="carol", email="ALICE-fan@example.com")
    names = {u["username"] for u in admin_api_client.get(URL, {"search": "alice"}).json()["results"]}
    assert names == {"alice", "carol"}


@pytest.mark.parametrize(("flag", "expected"), [("true", {"root"}), ("false", {"alice"})])
def test_is_admin_filter(admin_api_client, user, flag, expected):
    names = {u["username"] for u in admin_api_client.get(URL, {"is_admin": flag}).json()["results"]}
    assert names == expected


@pytest.mark.parametrize("flag", ["null", "yes", ""])
def test_an_is_admin_that_is_not_true_or_false_is_a_400(admin_api_client, flag):
    # Found by schemathesis: django-filter's BooleanFilter ignored it and listed everyone.
    response = admin_api_client.get(URL, {"is_admin": flag})
    assert response.status_code == 400
    assert list(response.json()) == ["is_admin"]


def test_the_schema_documents_the_errors_of_the_user_list_and_rights_changes(client):
    # Found by schemathesis: the list's 404 for a bad cursor was undocumented.
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert set(paths[URL]["get"]["responses"]) == {"200", "400", "401", "403", "404", "429"}
    for action in ("promote", "demote"):
        responses = paths[f"{URL}{{id}}/{action}/"]["post"]["responses"]
        assert set(responses) == {"200", "401", "403", "404", "409", "429"}
        assert "application/json" in responses["409"]["content"]


def test_promote_returns_the_user_now_admin(admin_api_client, user):
    response = admin_api_client.post(f"{URL}{user.pk}/promote/")
    assert response.status_code == 200
    assert response.json()["is_admin"] is True


def test_promote_an_admin_is_409(admin_api_client):
    other = AdminFactory()
    response = admin_api_client.post(f"{URL}{other.pk}/promote/")
    assert response.status_code == 409
    assert "detail" in response.json()


def test_promote_unknown_user_is_404(admin_api_client):
    assert admin_api_client.post(f"{URL}999999/promote/").status_code == 404


def test_demote_yourself_is_409(admin_api_client, admin_user):
    assert admin_api_client.post(f"{URL}{admin_user.pk}/demote/").status_code == 409


def test_demote_a_non_admin_is_409(admin_api_client, user):
    assert admin_api_client.post(f"{URL}{user.pk}/demote/").status_code == 409


def test_a_demoted_admins_access_token_is_refused_at_once(admin_user):
    victim = AdminFactory(username="demoted")
    client = bearer(token_pair("demoted")["access"])
    assert client.get(URL).status_code == 200
    AdminClient = APIClient()
    AdminClient.force_authenticate(admin_user)
    assert AdminClient.post(f"{URL}{victim.pk}/demote/").status_code == 200
    assert client.get(URL).status_code == 403


# ---------------------------------------------------------------- superusers


@pytest.fixture
def superuser(db):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


@pytest.fixture
def member_client(db):
    """An API client of an admin in the Administrators group who is not a superuser."""
    from accounts.services import user_promote

    client = APIClient()
    client.force_authenticate(user_promote(actor=None, user=UserFactory(username="member")))
    return client


def test_an_admin_who_is_not_a_superuser_cannot_demote_a_superuser(member_client, superuser):
    response = member_client.post(f"{URL}{superuser.pk}/demote/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a superuser can change the superuser boss."}
    superuser.refresh_from_db()
    assert (superuser.is_staff, superuser.is_superuser) == (True, True)
    assert not AuditEntry.objects.filter(action="user_demoted").exists()


def test_a_refused_superuser_change_is_audited_as_access_denied(member_client, superuser):
    member_client.post(f"{URL}{superuser.pk}/demote/")
    entry = AuditEntry.objects.get(action="access_denied")
    assert entry.actor_username == "member"
    assert entry.detail == f"POST {URL}{superuser.pk}/demote/"


def test_an_admin_who_is_not_a_superuser_cannot_promote_a_superuser(member_client):
    target = UserFactory(username="dormant", is_superuser=True)
    response = member_client.post(f"{URL}{target.pk}/promote/")
    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.is_staff


def test_a_superuser_demotes_another_superuser(superuser):
    other = UserFactory(username="other", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(superuser)
    response = client.post(f"{URL}{other.pk}/demote/")
    assert response.status_code == 200
    assert response.json()["is_admin"] is False


def test_an_admin_demoted_meanwhile_cannot_demote_with_a_stale_login(member_client):
    # force_authenticate keeps the member loaded before the demotion; the service re-reads it.
    member = member_client.handler._force_user
    type(member).objects.filter(pk=member.pk).update(is_staff=False)
    other = AdminFactory(username="other")
    assert member_client.post(f"{URL}{other.pk}/demote/").status_code == 403
    other.refresh_from_db()
    assert other.is_staff
