"""Two-factor login (TOTP and recovery codes): enrollment, the two-step login, lockout and audit."""

import json
import logging
import re
from io import StringIO

import pyotp
import pytest
from django.conf import settings
from django.core import signing
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import mfa
from accounts.models import RecoveryCode, User
from audit.models import AuditEntry
from devlab.logging import JsonFormatter
from tests.accounts.helpers import LOGIN_URL, PASSWORD_URL, bearer, log_in
from tests.factories import DEFAULT_PASSWORD, AdminFactory

pytestmark = pytest.mark.django_db

TOTP_URL = "/api/auth/mfa/totp/"
CONFIRM_URL = "/api/auth/mfa/totp/confirm/"
LOGIN_MFA_URL = "/api/auth/login/mfa/"
IP = "198.51.100.7"
#: A fixed clock for the authenticator, 5 s into a 30 s step.
NOW = 1_800_000_005.0


class _Clock:
    now = NOW

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """django-otp's TOTP clock, set by the test (codes come from pyotp at the same instant)."""
    fake = _Clock()
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", fake)
    return fake


@pytest.fixture
def no_device_backoff(settings):
    """django-otp's own doubling back-off after a failure would refuse the next right code for a
    second; tests that follow a failure with a right code turn it off (the lockout stays)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def enroll(user, clock) -> tuple[pyotp.TOTP, list[str]]:
    """Turns two-factor login on for ``user`` through the services; returns the app and recovery codes.

    The confirmation uses the code of the step before ``clock.now``, so the current step is still free.
    """
    device = mfa.mfa_totp_start(user=user)
    app = pyotp.TOTP(mfa.totp_secret(device))
    codes = mfa.mfa_totp_confirm(user=user, code=app.at(clock.now - 30))
    return app, codes


def challenge(client=None, username="alice", password=DEFAULT_PASSWORD, **extra) -> dict:
    response = log_in(client or APIClient(), username, password, **extra)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mfa_required"] is True
    return body


def second_step(token, code, client=None, **extra):
    return (client or APIClient()).post(LOGIN_MFA_URL, {"mfa_token": token, "code": code}, format="json", **extra)


def actions():
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


# ---------------------------------------------------------------- enrollment


def test_enrollment_answers_a_secret_and_its_otpauth_uri_but_is_not_active_yet(user_client, user, api_client):
    response = user_client.post(TOTP_URL)
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["otpauth_uri"].startswith("otpauth://totp/DevLab%3Aalice?")
    assert "issuer=DevLab" in body["otpauth_uri"]
    assert "algorithm=SHA1" in body["otpauth_uri"]
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert "digits=6" in body["otpauth_uri"]
    assert "period=30" in body["otpauth_uri"]
    assert not mfa.mfa_enabled(user)
    assert "access" in log_in(api_client, "alice").json()


def test_confirming_with_a_right_code_turns_it_on_and_shows_ten_recovery_codes(user_client, user, api_client):
    secret = user_client.post(TOTP_URL).json()["secret"]
    response = user_client.post(CONFIRM_URL, {"code": pyotp.TOTP(secret).now()}, format="json")
    assert response.status_code == 200
    codes = response.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", code) for code in codes)
    assert mfa.mfa_enabled(user)
    assert log_in(api_client, "alice").json()["mfa_required"] is True
    entry = AuditEntry.objects.get(action="mfa_enabled")
    assert (entry.actor_id, entry.target_id) == (user.pk, user.pk)


def test_a_wrong_confirmation_code_is_400_and_leaves_it_off(user_client, user):
    secret = user_client.post(TOTP_URL).json()["secret"]
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = user_client.post(CONFIRM_URL, {"code": wrong}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["code"]
    assert not mfa.mfa_enabled(user)


def test_confirming_without_an_enrollment_is_400(user_client):
    assert user_client.post(CONFIRM_URL, {"code": "123456"}, format="json").status_code == 400


def test_enrolling_again_while_it_is_on_is_409(user_client, user, clock):
    enroll(user, clock)
    assert user_client.post(TOTP_URL).status_code == 409


def test_enrolling_again_before_confirming_replaces_the_secret(user_client, user):
    first = user_client.post(TOTP_URL).json()["secret"]
    second = user_client.post(TOTP_URL).json()["secret"]
    assert first != second
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert user_client.post(CONFIRM_URL, {"code": pyotp.TOTP(first).now()}, format="json").status_code == 400


def test_recovery_codes_are_stored_hashed_only(user, clock):
    _, codes = enroll(user, clock)
    stored = list(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert all(plain not in digest and code not in digest for digest in stored)


@pytest.mark.parametrize("method", ["post", "delete"])
def test_the_enrollment_endpoints_need_authentication(api_client, method):
    assert getattr(api_client, method)(TOTP_URL).status_code == 401
    assert api_client.post(CONFIRM_URL, {"code": "123456"}, format="json").status_code == 401


# ---------------------------------------------------------------- turning it off


def test_turning_it_off_needs_the_password(user_client, user, clock, api_client):
    enroll(user, clock)
    response = user_client.delete(TOTP_URL, {"password": "not it"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    assert mfa.mfa_enabled(user)
    assert user_client.delete(TOTP_URL, {"password": DEFAULT_PASSWORD}, format="json").status_code == 204
    assert not mfa.mfa_enabled(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert "access" in log_in(api_client, "alice").json()
    entry = AuditEntry.objects.get(action="mfa_disabled")
    assert (entry.actor_id, entry.actor_username, entry.target_id) == (user.pk, "alice", user.pk)


def test_wrong_passwords_to_turn_it_off_count_towards_the_lockout(user_client, user, clock):
    enroll(user, clock)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        user_client.delete(TOTP_URL, {"password": "guess"}, format="json", REMOTE_ADDR=IP)
    response = user_client.delete(TOTP_URL, {"password": DEFAULT_PASSWORD}, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 429
    assert mfa.mfa_enabled(user)


# ---------------------------------------------------------------- the two-step login


def test_a_right_password_with_two_factor_on_answers_an_mfa_token_and_no_tokens(user, clock):
    enroll(user, clock)
    body = challenge()
    assert set(body) == {"mfa_required", "mfa_token", "expires_in"}
    assert body["expires_in"] == settings.MFA_TOKEN_SECONDS
    assert "login_success" not in actions()


def test_the_second_step_with_the_current_code_answers_the_token_pair(user, clock):
    app, _ = enroll(user, clock)
    response = second_step(challenge()["mfa_token"], app.at(clock.now))
    assert response.status_code == 200
    body = response.json()
    assert {"access", "refresh", "token_type", "expires_in"} <= set(body)
    assert bearer(body["access"]).get("/api/auth/me/").json()["username"] == "alice"
    assert actions()[-1] == "login_success"


def test_a_code_replayed_within_its_step_is_refused(user, clock):
    app, _ = enroll(user, clock)
    code = app.at(clock.now)
    assert second_step(challenge()["mfa_token"], code).status_code == 200
    response = second_step(challenge()["mfa_token"], code)
    assert response.status_code == 401
    assert actions()[-1] == "mfa_failed"


@pytest.mark.parametrize(("steps", "accepted"), [(-1, True), (0, True), (1, True), (-2, False), (2, False)])
def test_one_step_of_drift_either_side_is_accepted_and_no_more(user, clock, steps, accepted):
    app, _ = enroll(user, clock)
    clock.now += 60  # the enrollment's code (one step back) is out of reach
    response = second_step(challenge()["mfa_token"], app.at(clock.now + 30 * steps))
    assert (response.status_code == 200) is accepted


def test_the_drift_window_does_not_widen_after_a_drifted_code(user, clock):
    app, _ = enroll(user, clock)
    clock.now += 60
    assert second_step(challenge()["mfa_token"], app.at(clock.now + 30)).status_code == 200
    clock.now += 30
    # Had the drift been learnt (OTP_TOTP_SYNC), two steps ahead of the server would now pass.
    assert second_step(challenge()["mfa_token"], app.at(clock.now + 60)).status_code == 401


@pytest.mark.usefixtures("no_device_backoff")
def test_a_recovery_code_works_once_in_any_case_and_spacing(user, clock):
    _, codes = enroll(user, clock)
    typed = codes[0].replace("-", " ").upper()
    response = second_step(challenge()["mfa_token"], typed)
    assert response.status_code == 200
    assert actions()[-2:] == ["recovery_code_used", "login_success"]
    assert second_step(challenge()["mfa_token"], codes[0]).status_code == 401
    assert actions()[-1] == "mfa_failed"
    assert second_step(challenge()["mfa_token"], codes[1]).status_code == 200


def test_a_wrong_code_is_401_and_audited_as_mfa_failed_without_the_code(user, clock):
    app, _ = enroll(user, clock)
    wrong = f"{(int(app.at(clock.now)) + 1) % 1_000_000:06d}"
    response = second_step(challenge()["mfa_token"], wrong, REMOTE_ADDR=IP)
    assert response.status_code == 401
    entry = AuditEntry.objects.get(action="mfa_failed")
    assert (entry.actor_id, entry.target_id, entry.ip) == (user.pk, user.pk, IP)
    assert wrong not in json.dumps(list(AuditEntry.objects.values()), default=str)


@pytest.mark.usefixtures("no_device_backoff")
def test_wrong_codes_count_towards_the_lockout_even_with_the_right_password(user, clock):
    app, _ = enroll(user, clock)
    token = challenge(REMOTE_ADDR=IP)["mfa_token"]
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        assert second_step(token, f"{n:06d}", REMOTE_ADDR=IP).status_code == 401
    response = second_step(token, app.at(clock.now), REMOTE_ADDR=IP)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert log_in(APIClient(), "alice", REMOTE_ADDR=IP).status_code == 429


@pytest.mark.usefixtures("no_device_backoff")
def test_a_right_password_with_the_second_factor_pending_does_not_reset_the_count(user, clock):
    enroll(user, clock)
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert log_in(APIClient(), "alice", "wrong", REMOTE_ADDR=IP).status_code == 401
    token = challenge(REMOTE_ADDR=IP)["mfa_token"]
    assert second_step(token, "000000", REMOTE_ADDR=IP).status_code == 401
    assert log_in(APIClient(), "alice", REMOTE_ADDR=IP).status_code == 429


@pytest.mark.usefixtures("no_device_backoff")
def test_a_completed_two_factor_login_resets_the_count(user, clock):
    app, _ = enroll(user, clock)
    token = challenge(REMOTE_ADDR=IP)["mfa_token"]
    for n in range(settings.LOGIN_FAILURE_LIMIT - 1):
        second_step(token, f"{n:06d}", REMOTE_ADDR=IP)
    assert second_step(token, app.at(clock.now), REMOTE_ADDR=IP).status_code == 200
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        log_in(APIClient(), "alice", "wrong", REMOTE_ADDR=IP)
    assert log_in(APIClient(), "alice", REMOTE_ADDR=IP).status_code == 200


# ---------------------------------------------------------------- the mfa_token


def test_the_mfa_token_is_single_use(user, clock):
    app, _ = enroll(user, clock)
    token = challenge()["mfa_token"]
    assert second_step(token, app.at(clock.now)).status_code == 200
    clock.now += 30
    response = second_step(token, app.at(clock.now))
    assert response.status_code == 401
    assert "mfa_failed" not in actions()  # refused before any code was looked at


def test_the_mfa_token_expires(user, clock, monkeypatch):
    app, _ = enroll(user, clock)
    token = challenge()["mfa_token"]
    issued = signing.loads(token, salt="accounts.mfa.token")  # readable; only the server can sign one
    assert issued["u"] == user.pk
    later = signing.time.time() + settings.MFA_TOKEN_SECONDS + 1
    monkeypatch.setattr(signing, "time", type("T", (), {"time": staticmethod(lambda: later)}))
    assert second_step(token, app.at(clock.now)).status_code == 401


def test_a_forged_or_altered_mfa_token_is_refused(user, other_user, clock):
    app, _ = enroll(user, clock)
    enroll(other_user, clock)
    token = challenge()["mfa_token"]
    payload = signing.loads(token, salt="accounts.mfa.token")
    for forged in [
        signing.dumps({**payload, "u": other_user.pk}, key="not the server's key", salt="accounts.mfa.token"),
        signing.dumps(payload, salt="another purpose"),
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "garbage",
        str(log_in(APIClient(), "bob").json()),
    ]:
        assert second_step(forged, app.at(clock.now)).status_code == 401, forged


def test_one_users_mfa_token_cannot_log_in_another_user(user, other_user, clock):
    enroll(user, clock)
    bobs_app, _ = enroll(other_user, clock)
    alices_token = challenge()["mfa_token"]
    response = second_step(alices_token, bobs_app.at(clock.now))
    assert response.status_code == 401


def test_a_password_change_kills_a_pending_mfa_token(user, clock):
    app, _ = enroll(user, clock)
    token = challenge()["mfa_token"]
    client = APIClient()
    client.force_authenticate(user)
    new = "a brand new passphrase"
    assert client.post(PASSWORD_URL, {"old_password": DEFAULT_PASSWORD, "new_password": new}).status_code == 204
    assert second_step(token, app.at(clock.now)).status_code == 401


@pytest.mark.usefixtures("no_device_backoff")
def test_no_code_secret_or_token_reaches_an_audit_row_or_a_log_line(user, clock, caplog):
    audit_logger = logging.getLogger("audit")
    audit_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        client = APIClient()
        client.force_authenticate(user)
        secret = client.post(TOTP_URL).json()["secret"]
        app = pyotp.TOTP(secret)
        confirm_code = app.at(clock.now - 30)
        codes = client.post(CONFIRM_URL, {"code": confirm_code}, format="json").json()["recovery_codes"]
        token = challenge()["mfa_token"]
        wrong = f"{(int(app.at(clock.now)) + 1) % 1_000_000:06d}"
        second_step(token, wrong)
        good = app.at(clock.now)
        tokens = second_step(token, good).json()
        token2 = challenge()["mfa_token"]
        second_step(token2, codes[0])
    finally:
        audit_logger.removeHandler(caplog.handler)
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    text += json.dumps(list(AuditEntry.objects.values()), default=str)
    assert "/api/auth/login/mfa/" in text
    device_key = TOTPDevice.objects.get(user=user).key
    for secret_value in [secret, device_key, confirm_code, wrong, good, token, token2, *codes, tokens["refresh"]]:
        assert secret_value not in text, secret_value


# ---------------------------------------------------------------- the session logins


@pytest.fixture
def mfa_admin(clock):
    admin = AdminFactory(username="root")
    app, _ = enroll(admin, clock)
    return admin, app


def test_the_admin_site_asks_an_admin_with_two_factor_for_the_code(client, mfa_admin):
    _admin, _ = mfa_admin
    response = client.post("/admin/login/", {"username": "root", "password": DEFAULT_PASSWORD}, REMOTE_ADDR=IP)
    assert response.status_code == 200
    assert "two-factor" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session
    assert "login_success" not in actions()


def test_the_admin_site_logs_in_with_the_code_and_opens(client, mfa_admin, clock):
    admin, app = mfa_admin
    data = {"username": "root", "password": DEFAULT_PASSWORD, "otp_token": app.at(clock.now)}
    response = client.post("/admin/login/?next=/admin/", data)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin.pk)
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_at_the_admin_site_is_mfa_failed_and_counts(client, mfa_admin, no_device_backoff, clock):
    _admin, app = mfa_admin
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        data = {"username": "root", "password": DEFAULT_PASSWORD, "otp_token": f"{n:06d}"}
        client.post("/admin/login/", data, REMOTE_ADDR=IP)
    assert actions().count("mfa_failed") == settings.LOGIN_FAILURE_LIMIT
    data = {"username": "root", "password": DEFAULT_PASSWORD, "otp_token": app.at(clock.now)}
    response = client.post("/admin/login/", data, REMOTE_ADDR=IP)
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unverified_session_of_a_two_factor_admin_does_not_open_the_admin(client, mfa_admin):
    admin, _ = mfa_admin
    client.force_login(admin)  # e.g. a session from before two-factor was turned on
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_browsable_api_login_asks_for_the_code_too(client, user, clock):
    app, _ = enroll(user, clock)
    response = client.post("/api-auth/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert 'name="otp_token"' in response.content.decode()
    data = {"username": "alice", "password": DEFAULT_PASSWORD, "otp_token": app.at(clock.now), "next": "/api/"}
    assert client.post("/api-auth/login/", data).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_totp_secret_is_never_in_the_admin(client, mfa_admin, clock):
    admin, app = mfa_admin
    admin.is_superuser = True
    admin.save()
    data = {"username": "root", "password": DEFAULT_PASSWORD, "otp_token": app.at(clock.now)}
    client.post("/admin/login/", data)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    key = TOTPDevice.objects.get(user=admin).key
    for page in ["/admin/", f"/admin/accounts/user/{admin.pk}/change/"]:
        html = client.get(page).content.decode()
        assert key not in html
        assert mfa.totp_secret(TOTPDevice.objects.get(user=admin)) not in html


# ---------------------------------------------------------------- MFA_REQUIRED_FOR_ADMINS


@pytest.mark.parametrize("path", ["/api/admin/users/", "/api/audit/logs/", "/api/audit/verify/"])
def test_admins_without_two_factor_get_403_mfa_required_when_it_is_required(settings, admin_api_client, path):
    settings.MFA_REQUIRED_FOR_ADMINS = True
    response = admin_api_client.get(path)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "mfa_required"
    assert body["detail"]
    assert "access_denied" in actions()


def test_admins_without_two_factor_are_let_in_when_it_is_not_required(admin_api_client):
    assert admin_api_client.get("/api/admin/users/").status_code == 200


def test_admins_with_two_factor_are_let_in_when_it_is_required(settings, clock):
    settings.MFA_REQUIRED_FOR_ADMINS = True
    admin = AdminFactory()
    enroll(admin, clock)
    client = APIClient()
    client.force_authenticate(admin)
    assert client.get("/api/admin/users/").status_code == 200
    assert client.get("/api/audit/logs/").status_code == 200


def test_a_non_admin_still_gets_the_plain_403_when_it_is_required(settings, user_client):
    settings.MFA_REQUIRED_FOR_ADMINS = True
    response = user_client.get("/api/admin/users/")
    assert response.status_code == 403
    assert "code" not in response.json()


def test_an_admin_without_two_factor_can_still_enroll_when_it_is_required(settings, admin_api_client):
    settings.MFA_REQUIRED_FOR_ADMINS = True
    assert admin_api_client.post(TOTP_URL).status_code == 201


def test_the_admin_site_sends_an_admin_without_two_factor_to_enroll(settings, client, admin_user):
    settings.MFA_REQUIRED_FOR_ADMINS = True
    client.force_login(admin_user)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == TOTP_URL
    assert client.get("/admin/accounts/user/").status_code == 302


# ---------------------------------------------------------------- mfa_reset


def test_mfa_reset_turns_a_lost_second_factor_off_audited_as_cli(user, clock, api_client):
    enroll(user, clock)
    out = StringIO()
    call_command("mfa_reset", "ALICE", stdout=out)
    assert "off" in out.getvalue()
    assert not mfa.mfa_enabled(user)
    assert "access" in log_in(api_client, "alice").json()
    entry = AuditEntry.objects.get(action="mfa_disabled")
    assert (entry.actor_id, entry.actor_username, entry.target_id) == (None, "cli", user.pk)


def test_mfa_reset_of_an_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("mfa_reset", "ghost")


def test_mfa_reset_dry_run_changes_nothing(user, clock):
    enroll(user, clock)
    out = StringIO()
    call_command("mfa_reset", "alice", "--dry-run", stdout=out)
    assert "on" in out.getvalue()
    assert mfa.mfa_enabled(user)
    assert "mfa_disabled" not in actions()


# ---------------------------------------------------------------- the schema


def test_the_schema_describes_the_two_factor_operations(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert {"201", "409"} <= set(paths[TOTP_URL]["post"]["responses"])
    assert {"204", "400"} <= set(paths[TOTP_URL]["delete"]["responses"])
    assert "requestBody" in paths[TOTP_URL]["delete"]
    assert {"200", "400"} <= set(paths[CONFIRM_URL]["post"]["responses"])
    assert {"200", "401", "429"} <= set(paths[LOGIN_MFA_URL]["post"]["responses"])
    components = schema["components"]["schemas"]
    assert {"mfa_token", "code"} <= set(components["LoginSecondFactorRequest"]["properties"])
    assert {"mfa_required", "mfa_token", "expires_in"} <= set(components["MfaChallenge"]["properties"])
    assert set(components["TotpEnrollment"]["properties"]) == {"secret", "otpauth_uri"}
    assert paths[LOGIN_URL]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "LoginResult"
    )


def test_the_mfa_challenge_matches_the_documented_login_schema(api_client, user, clock):
    from jsonschema import Draft202012Validator

    enroll(user, clock)
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    ok = schema["paths"][LOGIN_URL]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    Draft202012Validator({**ok, "components": schema["components"]}).validate(challenge())


def test_user_model_has_no_new_login_bypass(user):
    # Two-factor state lives in its own tables: the user row and its API shape are unchanged.
    assert not hasattr(User, "otp_secret")
