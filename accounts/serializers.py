"""Shapes of the accounts endpoints' requests and responses; decisions live in accounts.services."""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.services import TAKEN


class UsernameField(serializers.CharField):
    """A new username: 3..150 characters of Django's username charset, NFKC-normalised first."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("validators", [UnicodeUsernameValidator()])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # Before the length and charset checks: full-width letters (U+FF21...) become ASCII.
        return User.normalize_username(super().to_internal_value(data))


class PasswordField(serializers.CharField):
    """A password: never echoed, never trimmed, up to ``PASSWORD_MAX_LENGTH`` characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", settings.PASSWORD_MAX_LENGTH)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


#: What of AUTH_PASSWORD_VALIDATORS a schema can say: Django's minimum length (8) and
#: "not entirely numeric" (a non-digit somewhere). Common passwords and passwords like
#: the username are refused too, which no JSON Schema can state.
NEW_PASSWORD_SCHEMA = {
    "type": "string",
    "writeOnly": True,
    "minLength": 8,
    "maxLength": settings.PASSWORD_MAX_LENGTH,
    "pattern": r"\D",
}
#: A token as simplejwt issues it: three base64url segments.
JWT_SCHEMA = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"}


@extend_schema_field(NEW_PASSWORD_SCHEMA)
class NewPasswordField(PasswordField):
    """A password being chosen: at least Django's minimum length (8, checked here so that the
    schema says so), then Django's validators (``_check_password_rules``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", NEW_PASSWORD_SCHEMA["minLength"])
        super().__init__(**kwargs)


@extend_schema_field(JWT_SCHEMA)
class JwtField(serializers.CharField):
    """A refresh token sent back to us; whether it is valid is the services' decision."""


def _check_password_rules(password: str, user: User) -> None:
    """Django's AUTH_PASSWORD_VALIDATORS, as DRF field errors."""
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(list(exc.messages)) from exc


class UserSerializer(serializers.ModelSerializer):
    """A user as the API shows it; only ``email`` can be written."""

    is_admin = serializers.BooleanField(source="is_staff", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "is_admin", "date_joined"]
        read_only_fields = ["id", "username", "date_joined"]
        extra_kwargs = {"email": {"required": True, "allow_blank": False}}

    def validate_email(self, value: str) -> str:
        others = User.objects.by_email(value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(TAKEN["email"])
        return value


class SignupSerializer(serializers.Serializer):
    username = UsernameField()
    email = serializers.EmailField(max_length=254)
    password = NewPasswordField()

    def validate_username(self, value: str) -> str:
        if User.objects.by_username(value).exists():
            raise serializers.ValidationError(TAKEN["username"])
        return value

    def validate_email(self, value: str) -> str:
        if User.objects.by_email(value).exists():
            raise serializers.ValidationError(TAKEN["email"])
        return value

    def validate(self, attrs):
        try:
            _check_password_rules(attrs["password"], User(username=attrs["username"], email=attrs["email"]))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"password": exc.detail}) from exc
        return attrs


class LoginSerializer(serializers.Serializer):
    # No max_length: an over-long name is a failed login (401, audited with the
    # name cut to 150 characters, counted by the lockout), not a 400 nobody records.
    username = serializers.CharField()
    password = PasswordField()
    grant_type = serializers.ChoiceField(
        choices=["password"],
        required=False,
        help_text=_(
            "Sent by OAuth2 clients such as Swagger UI's Authorize (the password grant); "
            "the response then also carries access_token."
        ),
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text=_("Access JWT: send it as 'Authorization: Bearer <access>'."))
    refresh = serializers.CharField(help_text=_("Refresh JWT for POST /api/auth/refresh/ and logout."))
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text=_("Seconds until the access token expires."))
    access_token = serializers.CharField(
        required=False,
        help_text=_("The access token under its OAuth2 name; only when the request had grant_type=password."),
    )


class RefreshSerializer(serializers.Serializer):
    refresh = JwtField()


class RefreshedTokensSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text=_("The new refresh token; the one sent is now revoked."))


class LogoutSerializer(serializers.Serializer):
    refresh = JwtField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = PasswordField()
    new_password = NewPasswordField()

    def validate_new_password(self, value: str) -> str:
        _check_password_rules(value, self.context["request"].user)
        return value


# ---------------------------------------------------------------- two-factor login


class MfaChallengeSerializer(serializers.Serializer):
    mfa_required = serializers.ChoiceField(
        choices=[True], help_text=_("Two-factor login is on: send mfa_token and a code to /api/auth/login/mfa/.")
    )
    mfa_token = serializers.CharField(help_text=_("Stands for the right password until the second factor is given."))
    expires_in = serializers.IntegerField(help_text=_("Seconds until mfa_token expires."))


class SecondFactorCodeField(serializers.CharField):
    """A 6-digit TOTP code, or a recovery code (xxxx-xxxx-xxxx, any case)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", _("The 6-digit code of your authenticator app, or one of your recovery codes."))
        super().__init__(**kwargs)


class LoginSecondFactorSerializer(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=512)
    code = SecondFactorCodeField()


class TotpEnrollmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text=_("The TOTP secret in base32, for typing into an authenticator app."))
    otpauth_uri = serializers.CharField(help_text=_("The same secret as an otpauth:// URI (for a QR code)."))


class TotpConfirmSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^[0-9]{6}$", help_text=_("The current 6-digit code of the authenticator app."))


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        min_length=10,
        max_length=10,
        help_text=_("Single-use codes for when the authenticator is lost; shown only this once."),
    )


class MfaDisableSerializer(serializers.Serializer):
    password = PasswordField()


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text=_("The uid of the reset link's query."))
    token = serializers.CharField(max_length=128, help_text=_("The token of the reset link's query."))
    new_password = NewPasswordField()
