"""The project's routes plus endpoints that fail the way the real ones do.

They let the audit tests prove what happens to a request's audit rows when
the request fails (or its audit write does), independently of the accounts
and notes views.
"""

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.urls import path
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import signals
from devlab.urls import urlpatterns as project_urlpatterns

User = get_user_model()


class _Open(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # without one, DRF turns 401 into 403


class FailedLogin(_Open):
    """Writes something, then a login fails: 401, everything of the request rolled back."""

    def post(self, request):
        User.objects.create_user(username="written-by-the-failed-request")
        authenticate(request._request, username=request.data["username"], password=request.data["password"])
        raise exceptions.AuthenticationFailed("No active account found with the given credentials")


class ThrottledLogin(_Open):
    def post(self, request):
        signals.login_throttled.send(sender=User, username=request.data["username"])
        raise exceptions.Throttled(wait=60)


class ReusedToken(_Open):
    def post(self, request):
        signals.refresh_token_reused.send(sender=User, user=User.objects.get(username=request.data["username"]))
        raise exceptions.AuthenticationFailed("Token is blacklisted")


@transaction.atomic
def _signup(*, username: str):
    user = User.objects.create_user(username=username)
    signals.user_signed_up.send(sender=User, user=user)
    return user


class Signup(_Open):
    def post(self, request):
        user = _signup(username=request.data["username"])
        return Response({"id": user.pk}, status=201)


urlpatterns = [
    path("api/test-audit/failed-login/", FailedLogin.as_view()),
    path("api/test-audit/throttled-login/", ThrottledLogin.as_view()),
    path("api/test-audit/reused-token/", ReusedToken.as_view()),
    path("api/test-audit/signup/", Signup.as_view()),
    *project_urlpatterns,
]
