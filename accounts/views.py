"""Accounts endpoints under /api/auth/: HTTP in and out, decisions in accounts.services."""

from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters import CharFilter, TypedChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import lockout, services, signals
from accounts.models import User
from accounts.permissions import AdminOnlyMixin
from accounts.schema import BAD_REQUEST, DETAIL, FORBIDDEN, THROTTLED, UNAUTHORIZED
from accounts.serializers import (
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    RefreshedTokensSerializer,
    RefreshSerializer,
    SignupSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.tokens import access_token_seconds
from devlab.filters import FilterSet
from devlab.pagination import CreatedAtCursorPagination
from devlab.throttling import AnonRateThrottle, ScopedRateThrottle

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)


def _field_errors(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(as_serializer_error(exc))


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
        try:
            user = services.user_signup(**serializer.validated_data)
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


def _attempted_username(request) -> str:
    """The username of a request refused before validation, made safe to record."""
    try:
        username = request.data.get("username", "")
    except (exceptions.ParseError, exceptions.UnsupportedMediaType, AttributeError):
        return ""
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
        responses={200: TokenPairSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: THROTTLED},
        parameters=[RETRY_AFTER],
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            refresh = services.user_log_in(
                request=request._request, username=data["username"], password=data["password"]
            )
        except lockout.LockedOut as exc:
            raise exceptions.Throttled(exc.retry_after, _("Too many failed logins.")) from exc
        except services.InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed(_("Invalid username or password.")) from exc
        access = str(refresh.access_token)
        body = {"access": access, "refresh": str(refresh), "token_type": "Bearer", "expires_in": access_token_seconds()}
        if data.get("grant_type") == "password":
            body["access_token"] = access
        return Response(body)

    def throttled(self, request, wait):
        signals.login_throttled.send(sender=User, username=_attempted_username(request), reason="rate")
        super().throttled(request, wait)


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
        try:
            services.user_logout(user=request.user, refresh=serializer.validated_data["refresh"])
        except DjangoValidationError as exc:
            raise _field_errors(exc) from exc
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
            try:
                user = services.user_update_profile(user=user, email=serializer.validated_data["email"])
            except DjangoValidationError as exc:
                raise _field_errors(exc) from exc
        return Response(UserSerializer(user).data)


class PasswordChangeView(GenericAPIView):
    """Every refresh token of yours is revoked; log in again with the new password."""

    serializer_class = PasswordChangeSerializer

    @extend_schema(
        summary="Change your password",
        responses={
            204: None,
            400: OpenApiResponse(BAD_REQUEST.response, description="Wrong old password or weak new one."),
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.user_change_password(user=request.user, new_password=serializer.validated_data["new_password"])
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the browsable API's session (Django ends sessions on a password change).
            update_session_auth_hash(request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the user's current state.")
    default_code = "conflict"


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(TypedChoiceFilter):
    """``true`` or ``false``, nothing else: django-filter's own BooleanFilter ignores any other
    value (``?is_admin=null`` listed everyone; found by schemathesis)."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", **kwargs)


class UserAdminFilter(FilterSet):
    search = CharFilter(method="filter_search", help_text="Substring of username or email, case-insensitive.")
    is_admin = BooleanFilter(field_name="is_staff", help_text="Only admins (true) or only non-admins (false).")

    class Meta:
        model = User
        fields = ["search", "is_admin"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(email__icontains=value))


def _rights_change_responses(conflict: str) -> dict:
    """The documented answers of promote/demote; ``conflict`` says when 409 happens."""
    return {
        200: UserSerializer,
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: OpenApiResponse(DETAIL, description="No such user"),
        409: OpenApiResponse(DETAIL, description=conflict),
        429: THROTTLED,
    }


class UserAdminPagination(CreatedAtCursorPagination):
    ordering = "-date_joined"


@extend_schema_view(
    list=extend_schema(
        summary="List users (admins only)",
        responses={
            200: UserSerializer,
            400: OpenApiResponse(BAD_REQUEST.response, description="A filter or `page_size` that does not parse."),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            404: OpenApiResponse(DETAIL, description="A `cursor` that this API did not issue."),
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
    pagination_class = UserAdminPagination

    def _change(self, service, request):
        user = self.get_object()
        try:
            service(actor=request.user, user=user)
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
