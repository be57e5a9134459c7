"""POST /api/auth/signup/: who may sign up, under which name, with which password."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from accounts import services, signals
from accounts.models import User
from tests.accounts.helpers import SIGNUP_URL, capture, full_width, in_parallel, log_in

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a long enough passphrase"


def signup(client, **fields):
    body = {"username": "carol", "email": "carol@example.com", "password": GOOD_PASSWORD, **fields}
    return client.post(SIGNUP_URL, body, format="json")


def test_signup_creates_the_user_and_returns_it_without_the_password(api_client):
    response = signup(api_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "is_admin", "date_joined"}
    assert body["username"] == "carol"
    assert body["is_admin"] is False
    user = User.objects.get(pk=body["id"])
    assert user.check_password(GOOD_PASSWORD)
    assert user.password not in response.content.decode()


def test_signup_accepts_a_form_body(api_client):
    response = api_client.post(
        SIGNUP_URL,
        "username=dave&email=dave%40example.com&password=a+long+enough+passphrase",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert User.objects.filter(username="dave").exists()


def test_signup_sends_user_signed_up_once_with_the_new_user(api_client):
    with capture(signals.user_signed_up) as calls:
        response = signup(api_client)
    assert len(calls) == 1
    assert calls[0]["sender"] is User
    assert calls[0]["user"].pk == response.json()["id"]


@pytest.mark.parametrize("taken", ["Alice", "ALICE", "alice", full_width("alice"), full_width("Alice")])
def test_a_username_taken_in_any_case_or_width_is_400(api_client, user, taken):
    response = signup(api_client, username=taken)
    assert response.status_code == 400
    assert "username" in response.json()
    assert User.objects.count() == 1


def test_a_full_width_username_is_stored_nfkc_normalised(api_client):
    response = signup(api_client, username=full_width("carol"))
    assert response.status_code == 201
    assert response.json()["username"] == "carol"


def test_an_email_taken_in_another_case_is_400(api_client, user):
    response = signup(api_client, email=user.email.upper())
    assert response.status_code == 400
    assert list(response.json()) == ["email"]


@pytest.mark.parametrize("email", ["not-an-email", "carol@", "", "a" * 250 + "@example.com"])
def test_a_bad_email_is_400(api_client, email):
    response = signup(api_client, email=email)
    assert response.status_code == 400
    assert list(response.json()) == ["email"]


@pytest.mark.parametrize("username", ["ab", "x" * 151, "with space", "semi;colon", "tab\tbed", ""])
def test_a_username_outside_3_to_150_characters_of_the_charset_is_400(api_client, username):
    response = signup(api_client, username=username)
    assert response.status_code == 400
    assert list(response.json()) == ["username"]


def test_usernames_of_3_and_150_characters_of_the_charset_are_accepted(api_client):
    assert signup(api_client, username="a.b", email="short@example.com").status_code == 201
    assert signup(api_client, username="z@+-_" * 30, email="long@example.com").status_code == 201


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("password", id="common"),
        pytest.param("12345678", id="numeric"),
        pytest.param("short", id="too-short"),
        pytest.param("carolthegreat", id="same-as-username"),
    ],
)
def test_a_password_rejected_by_djangos_validators_is_400(api_client, password):
    response = signup(api_client, username="carolthegreat", password=password)
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert not User.objects.exists()


@pytest.mark.real_hasher
def test_a_200_byte_password_signs_up_and_logs_in_with_pbkdf2(api_client):
    password = "ü" * 100  # 200 bytes in UTF-8: where bcrypt silently truncated at 72
    assert signup(api_client, password=password).status_code == 201
    assert User.objects.get(username="carol").password.startswith("pbkdf2_sha256$")
    assert log_in(api_client, "carol", password).status_code == 200
    assert log_in(api_client, "carol", "ü" * 99 + "u").status_code == 401


def test_a_4096_character_password_is_accepted_and_4097_is_not(api_client):
    assert signup(api_client, password="x1y2" * 1024).status_code == 201
    response = signup(api_client, username="dave", email="dave@example.com", password="x1y2" * 1024 + "z")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]


def test_spaces_around_a_password_are_kept(api_client):
    assert signup(api_client, password=f"  {GOOD_PASSWORD}  ").status_code == 201
    assert User.objects.get(username="carol").check_password(f"  {GOOD_PASSWORD}  ")


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_a_nul_character_in_any_field_is_400(api_client, field):
    values = {"username": "car\x00ol", "email": "car\x00ol@example.com", "password": "a long\x00passphrase"}
    response = signup(api_client, **{field: values[field]})
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "ALICE"), ("email", "ALICE@EXAMPLE.COM")],
)
def test_the_service_turns_a_unique_violation_into_a_field_error(user, field, value):
    # The serializer checks first; this is the race it cannot see, settled by the database.
    values = {"username": "carol", "email": "carol@example.com", field: value}
    with pytest.raises(ValidationError) as raised:
        services.user_signup(password=GOOD_PASSWORD, **values)
    assert list(raised.value.message_dict) == [field]
    assert User.objects.count() == 1


@pytest.fixture
def committed_cache():
    """transaction=True tests commit throttle counters to the database cache; drop them after."""
    yield
    cache.clear()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("committed_cache")
def test_parallel_signups_of_one_name_give_one_201_and_400s_never_a_500():
    names = ["erin", "Erin", "ERIN", full_width("erin"), "eRin", "erIN", "ErIn", "erin"]

    def attempt(client, index):
        body = {"username": names[index], "email": f"erin{index}@example.com", "password": GOOD_PASSWORD}
        return client.post(SIGNUP_URL, body, format="json")

    results = in_parallel(len(names), attempt)
    statuses = sorted(getattr(r, "status_code", r) for r in results)
    assert statuses == [201] + [400] * 7, results
    assert all("username" in r.json() for r in results if r.status_code == 400)
    assert User.objects.count() == 1
