"""Refresh tokens that are remembered by their ``jti`` only, and the access token lifetime.

simplejwt's blacklist app stores every issued refresh token's full text in
``OutstandingToken.token`` (its issue #803). That text is a working
credential until it expires: anyone who can read the table (the admin site, a
backup, a replica, a support dump) could log in as its user. DevLab needs only
what rotation, revocation and reuse detection read: the ``jti``, the user and
the issue and expiry times. The ``token`` column (which the model requires)
is always left empty; ``accounts/migrations/0004`` blanked the tokens stored
before.
"""

from typing import Self

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import BlacklistMixin
from rest_framework_simplejwt.tokens import RefreshToken as SimpleJwtRefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

#: What ``OutstandingToken.token`` holds for every refresh token DevLab issues.
STORED_TOKEN_TEXT = ""


class RefreshToken(SimpleJwtRefreshToken):
    """simplejwt's refresh token, recorded in the outstanding list without its text.

    Every path that writes an ``OutstandingToken`` row (``for_user``,
    ``outstand``, ``blacklist``) is overridden; use this class wherever a
    refresh token is issued or read.
    """

    def _outstanding_defaults(self) -> dict:
        return {
            "created_at": self.current_time,
            "expires_at": datetime_from_epoch(self.payload["exp"]),
            "token": STORED_TOKEN_TEXT,
        }

    def _user(self):
        from accounts.models import User

        user_id = self.payload.get(api_settings.USER_ID_CLAIM)
        return User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first() if user_id else None

    @classmethod
    def for_user(cls, user) -> Self:
        """A new refresh token for ``user``, recorded as outstanding by its ``jti``."""
        # Token.for_user builds the claims; BlacklistMixin.for_user, skipped
        # here, would store the token's text.
        token = super(BlacklistMixin, cls).for_user(user)
        OutstandingToken.objects.create(user=user, jti=token[api_settings.JTI_CLAIM], **token._outstanding_defaults())
        return token

    def outstand(self) -> OutstandingToken:
        """The outstanding-token row of this token, created (without its text) if missing."""
        return OutstandingToken.objects.get_or_create(
            jti=self.payload[api_settings.JTI_CLAIM], defaults={"user": self._user(), **self._outstanding_defaults()}
        )[0]

    def blacklist(self) -> BlacklistedToken:
        """Revokes this token (recording it as outstanding first, without its text, if needed)."""
        return BlacklistedToken.objects.get_or_create(token=self.outstand())


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
