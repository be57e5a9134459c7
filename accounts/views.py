"""Accounts endpoints under /api/auth/: HTTP in and out, decisions in accounts.services."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import lockout, mfa, services
from accounts.filters import UserAdminFilter
from accounts.login import login_throttled
from accounts.models import User
from accounts.permissions import AdminOnlyMixin
from accounts.schema import BodyOnDeleteSchema
from accounts.serializers import (
    LoginSecondFactorSerializer,
    LoginSerializer,
    LogoutSerializer,
    MfaChallengeSerializer,
    MfaDisableSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RecoveryCodesSerializer,
    RefreshedTokensSerializer,
    RefreshSerializer,
    SignupSerializer,
    TokenPairSerializer,
    TotpConfirmSerializer,
    TotpEnrollmentSerializer,
    UserSerializer,
)
from accounts.throttling import PasswordResetEmailThrottle
from accounts.tokens import access_token_seconds
from api.exceptions import Conflict
from api.parsers import JSONParser
from api.schema import (
    BAD_CURSOR,
    BAD_REQUEST,
    NOT_ADMIN,
    RETRY_AFTER,
    THROTTLED,
    UNAUTHORIZED,
    detail_error,
    field_errors,
)
from api.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle


class _AnonymousEndpoint(GenericAPIView):
    """An endpoint that takes no credentials.

    No authenticators: a stale ``Authorization`` header (Swagger UI keeps the
    last one) or a browsable-API session must not get in the way of logging in.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request):
        # DRF turns a 401 into a 403 when no authenticator names a scheme.
        return 'Bearer realm="api"'


class SignupView(_AnonymousEndpoint):
    """Usernames are unique ignoring case (and NFKC width variants), as are emails; the password
    must pass Django's validators (up to 4096 characters). Accepts JSON or a form."""

    serializer_class = SignupSerializer
    parser_classes = (JSONParser, FormParser)

    @extend_schema(
        summary="Create an account",
        responses={201: UserSerializer, 400: BAD_REQUEST, 429: THROTTLED},
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_signup(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


def _attempted_username(request) -> str:
    """The username of a request refused before validation, made safe to record."""
    try:
        username = request.data.get("username", "")
    except (exceptions.ParseError, exceptions.UnsupportedMediaType, SuspiciousOperation, AttributeError):
        return ""  # SuspiciousOperation: Django refused the body (too many fields), api.exceptions.client_error
    return username.replace("\x00", "")[:150] if isinstance(username, str) else ""


# The failure counters (database cache) must persist although the request fails.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class LoginView(_AnonymousEndpoint):
    """JSON or `application/x-www-form-urlencoded` (the OAuth2 password form: with
    `grant_type=password` the response also carries `access_token`). The same 401 for an unknown
    user, a wrong password and an inactive user. After `LOGIN_FAILURE_LIMIT` failures for one
    username from one IP, 429 until `LOGIN_LOCKOUT_MINUTES` have passed, even with the right
    password; a per-IP rate (`THROTTLE_LOGIN`) applies too."""

    serializer_class = LoginSerializer
    parser_classes = (JSONParser, FormParser)
    throttle_classes = (AnonRateThrottle, ScopedRateThrottle)
    throttle_scope = "login"

    @extend_schema(
        summary="Log in: a token pair for a username and password",
        description="With two-factor login on, a right password answers `mfa_required` and an `mfa_token` "
        "for `POST /api/auth/login/mfa/` instead of tokens.",
        responses={
            200: PolymorphicProxySerializer(
                component_name="LoginResult",
                serializers=[TokenPairSerializer, MfaChallengeSerializer],
                resource_type_field_name=None,
            ),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _login_refusals(wrong=_("Invalid username or password.")):
            refresh = services.user_log_in(
                request=request._request, username=data["username"], password=data["password"]
            )
        if isinstance(refresh, services.MfaChallenge):
            return Response({"mfa_required": True, "mfa_token": refresh.mfa_token, "expires_in": refresh.expires_in})
        return Response(_token_pair_body(refresh, oauth2=data.get("grant_type") == "password"))

    def throttled(self, request, wait):
        login_throttled(request=request._request, username=_attempted_username(request), reason="rate")
        super().throttled(request, wait)


@contextmanager
def _login_refusals(*, wrong: str) -> Iterator[None]:
    """A login step's refusals as HTTP: 429 while locked out, 401 with ``wrong`` for a wrong secret."""
    try:
        yield
    except lockout.LockedOut as exc:
        raise exceptions.Throttled(exc.retry_after, _("Too many failed logins.")) from exc
    except services.InvalidCredentials as exc:
        raise exceptions.AuthenticationFailed(wrong) from exc


def _token_pair_body(refresh, *, oauth2: bool = False) -> dict:
    access = str(refresh.access_token)
    body = {"access": access, "refresh": str(refresh), "token_type": "Bearer", "expires_in": access_token_seconds()}
    if oauth2:
        body["access_token"] = access
    return body


# The failure counters and the mfa_failed row must persist although the request fails.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class LoginSecondFactorView(_AnonymousEndpoint):
    """The second step of a two-factor login: the `mfa_token` that `POST /api/auth/login/` answered
    for the right password, and the current code of the authenticator app or an unused recovery
    code. A code is accepted once; wrong codes count towards the same lockout as wrong passwords
    (429); the token expires after `MFA_TOKEN_SECONDS` and is single use."""

    serializer_class = LoginSecondFactorSerializer
    parser_classes = (JSONParser, FormParser)
    throttle_classes = (AnonRateThrottle, ScopedRateThrottle)
    throttle_scope = "login"

    @extend_schema(
        summary="Log in, second step: a token pair for the mfa_token and a code",
        responses={
            200: TokenPairSerializer,
            400: BAD_REQUEST,
            401: detail_error("Wrong, replayed or used code, or a bad or expired mfa_token."),
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _login_refusals(wrong=_("Invalid code.")):
            try:
                refresh = services.user_log_in_second_factor(
                    request=request._request, mfa_token=data["mfa_token"], code=data["code"]
                )
            except mfa.InvalidMfaToken as exc:
                raise exceptions.AuthenticationFailed(_("The login has expired; log in again.")) from exc
        return Response(_token_pair_body(refresh))

    def throttled(self, request, wait):
        login_throttled(request=request._request, username="", reason="rate")
        super().throttled(request, wait)


# A wrong password's failure count must persist although the request fails.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TotpView(GenericAPIView):
    """Two-factor login with an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30 s)."""

    schema = BodyOnDeleteSchema()

    def get_serializer_class(self):
        return MfaDisableSerializer if self.request.method == "DELETE" else TotpEnrollmentSerializer

    @extend_schema(
        summary="Start enrolling an authenticator app",
        description="A new secret, not active until confirmed with a first code "
        "(`POST /api/auth/mfa/totp/confirm/`). Starting again replaces an unconfirmed one.",
        request=None,
        responses={
            201: TotpEnrollmentSerializer,
            401: UNAUTHORIZED,
            409: detail_error("Two-factor login is already on."),
            429: THROTTLED,
        },
    )
    def post(self, request):
        try:
            device = mfa.mfa_totp_start(user=request.user)
        except mfa.AlreadyEnabled:
            raise Conflict(_("Two-factor login is already on; turn it off first.")) from None
        body = {"secret": mfa.totp_secret(device), "otpauth_uri": device.config_url}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Turn two-factor login off",
        description="Needs your password; a wrong one counts towards the login lockout.",
        request=MfaDisableSerializer,
        responses={
            204: None,
            400: field_errors("Wrong password."),
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def delete(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.user_mfa_disable(
                request=request._request, user=request.user, password=serializer.validated_data["password"]
            )
        except lockout.LockedOut as exc:
            raise exceptions.Throttled(exc.retry_after, _("Too many failed logins.")) from exc
        except services.WrongPassword as exc:
            raise exceptions.ValidationError({"password": [_("Wrong password.")]}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpConfirmView(GenericAPIView):
    """Turns two-factor login on with the authenticator's first code."""

    serializer_class = TotpConfirmSerializer

    @extend_schema(
        summary="Confirm the authenticator app: two-factor login is on",
        description="Answers the ten single-use recovery codes, shown only this once.",
        responses={
            200: RecoveryCodesSerializer,
            400: field_errors("Wrong code, or no enrollment started."),
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            codes = mfa.mfa_totp_confirm(user=request.user, code=serializer.validated_data["code"])
        except mfa.NoEnrollment:
            raise exceptions.ValidationError({"code": [_("Start the enrollment first.")]}) from None
        except mfa.WrongCode:
            raise exceptions.ValidationError({"code": [_("Wrong code.")]}) from None
        return Response({"recovery_codes": codes})


# A reused token's revocation must persist although the request fails.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class RefreshView(_AnonymousEndpoint):
    """Rotation: the refresh token sent is revoked. Sending a revoked one again is treated as
    theft: 401, and every refresh token of that user is revoked."""

    serializer_class = RefreshSerializer

    @extend_schema(
        summary="Swap a refresh token for a new pair",
        responses={200: RefreshedTokensSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            refresh = services.token_refresh(refresh=serializer.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class LogoutView(GenericAPIView):
    """The access token stays valid until it expires (`ACCESS_TOKEN_MINUTES`)."""

    serializer_class = LogoutSerializer

    @extend_schema(
        summary="Log out: revoke one refresh token",
        responses={204: None, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_logout(user=request.user, refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    """Access tokens already issued stay valid until they expire (`ACCESS_TOKEN_MINUTES`).

    An ``APIView``: there is no body, so no serializer for OPTIONS to describe
    (a ``GenericAPIView`` without one answered OPTIONS with a 500).
    """

    @extend_schema(
        summary="Log out everywhere: revoke every refresh token of the caller",
        request=None,
        responses={204: None, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def post(self, request):
        services.user_logout_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(GenericAPIView):
    """The caller's own account."""

    serializer_class = UserSerializer

    @extend_schema(summary="Your account", responses={200: UserSerializer, 401: UNAUTHORIZED, 429: THROTTLED})
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Change your email",
        description="Only `email` can be changed; other fields in the body are ignored.",
        responses={200: UserSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
    )
    def patch(self, request):
        serializer = self.get_serializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = request.user
        if "email" in serializer.validated_data:
            user = services.user_update_profile(user=user, email=serializer.validated_data["email"])
        return Response(UserSerializer(user).data)


# The failure counters and the password_change_failed row must persist although the request fails.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class PasswordChangeView(GenericAPIView):
    """Every refresh token of yours is revoked; log in again with the new password. A wrong old
    password counts towards the login lockout (`LOGIN_FAILURE_LIMIT`): then 429, even with the
    right one, until `LOGIN_LOCKOUT_MINUTES` have passed; a per-user rate (`THROTTLE_PASSWORD`)
    applies too."""

    serializer_class = PasswordChangeSerializer
    throttle_classes = (UserRateThrottle, ScopedRateThrottle)
    throttle_scope = "password"

    @extend_schema(
        summary="Change your password",
        responses={
            204: None,
            400: field_errors("Wrong old password or weak new one."),
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.user_change_own_password(
                request=request._request,
                user=request.user,
                old_password=data["old_password"],
                new_password=data["new_password"],
            )
        except lockout.LockedOut as exc:
            raise exceptions.Throttled(exc.retry_after, _("Too many failed logins.")) from exc
        except services.WrongPassword as exc:
            message = _("Your old password was entered incorrectly.")
            raise exceptions.ValidationError({"old_password": [message]}) from exc
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the browsable API's session (Django ends sessions on a password change).
            update_session_auth_hash(request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def throttled(self, request, wait):
        login_throttled(request=request._request, username=request.user.get_username(), reason="rate")
        super().throttled(request, wait)


def _reset_url_template(request) -> str:
    """``PASSWORD_RESET_URL`` with ``{origin}`` filled in (Host was checked against ALLOWED_HOSTS)."""
    origin = request.build_absolute_uri("/").rstrip("/")
    return settings.PASSWORD_RESET_URL.replace("{origin}", origin)


class PasswordResetView(_AnonymousEndpoint):
    """The same answer, in about the same time, whether or not the address has an account: the email
    (a link carrying `uid` and `token`, valid for `PASSWORD_RESET_MINUTES`) is sent in the background.
    Limited per client IP (`THROTTLE_PASSWORD_RESET`) and per address (`THROTTLE_PASSWORD_RESET_EMAIL`)."""

    serializer_class = PasswordResetSerializer
    throttle_classes = (AnonRateThrottle, ScopedRateThrottle, PasswordResetEmailThrottle)
    throttle_scope = "password_reset"

    @extend_schema(
        summary="Ask for a password reset email",
        responses={
            202: OpenApiResponse(
                inline_serializer("PasswordResetAccepted", {"detail": serializers.CharField()}),
                description="Accepted; an email goes out if the address has an account.",
            ),
            400: BAD_REQUEST,
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(
            email=serializer.validated_data["email"], url_template=_reset_url_template(request)
        )
        detail = _("If an account has this email address, a password reset link is on its way to it.")
        return Response({"detail": detail}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(_AnonymousEndpoint):
    """Sets a new password with the `uid` and `token` of a reset link. A token works once, and no
    longer once the password has changed or `PASSWORD_RESET_MINUTES` have passed. Every refresh
    token of the account is revoked."""

    serializer_class = PasswordResetConfirmSerializer

    @extend_schema(
        summary="Set a new password with a reset link",
        responses={
            204: None,
            400: field_errors("Invalid, used or expired link, or a weak new password."),
            429: THROTTLED,
        },
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _rights_change_responses(conflict: str) -> dict:
    """The documented answers of promote/demote; ``conflict`` says when 409 happens."""
    return {
        200: UserSerializer,
        401: UNAUTHORIZED,
        403: detail_error("Not an admin, or the user is a superuser and you are not one."),
        404: detail_error("No such user"),
        409: detail_error(conflict),
        429: THROTTLED,
    }


@extend_schema_view(
    list=extend_schema(
        summary="List users (admins only)",
        responses={
            200: UserSerializer,
            400: field_errors("A filter or `page_size` that does not parse."),
            401: UNAUTHORIZED,
            403: NOT_ADMIN,
            404: BAD_CURSOR,
            429: THROTTLED,
        },
    ),
)
class UserAdminViewSet(AdminOnlyMixin, viewsets.GenericViewSet, mixins.ListModelMixin):
    """User administration for admins: list, promote, demote (the admin site and CLI call the same services)."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = UserAdminFilter
    ordering = ("-date_joined", "-id")  # the keyset paginator's order

    def _change(self, service, request):
        user = self.get_object()
        try:
            service(actor=request.user, user=user)
        except services.AdminRightsForbidden as exc:
            self.permission_denied(request, message=str(exc))  # 403, audited as access_denied
        except services.AdminRightsConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(UserSerializer(user).data)

    @extend_schema(request=None, responses=_rights_change_responses("Already an admin"))
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        """Make the user an admin."""
        return self._change(services.user_promote, request)

    @extend_schema(request=None, responses=_rights_change_responses("Not an admin, yourself, or the last superuser"))
    @action(detail=True, methods=["post"])
    def demote(self, request, pk=None):
        """Remove the user's admin rights and revoke their refresh tokens."""
        return self._change(services.user_demote, request)
