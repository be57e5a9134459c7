"""Reading refresh tokens as clients present them, and the access token lifetime."""

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken


class PresentedRefreshToken(RefreshToken):
    """A refresh token sent by a client: signature, expiry, type and id are verified.

    Whether it has been revoked is deliberately not checked here: the refresh
    service decides that itself, under a lock on the outstanding-token row,
    because a revoked token is not just invalid but a sign of theft.
    """

    def check_blacklist(self) -> None:
        """Skipped on purpose; see the class docstring."""


def access_token_seconds() -> int:
    """How long a freshly issued access token is valid, in seconds (``ACCESS_TOKEN_MINUTES``)."""
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())
