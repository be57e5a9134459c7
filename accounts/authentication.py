"""JWT authentication with one cheap query for the user.

simplejwt's ``JWTAuthentication.get_user`` runs ``User.objects.get(id=...)``:
the ORM builds and compiles the same query on every request, about three
quarters of a millisecond of CPU, more than the round trip itself. Here the
user comes from ``accounts.selectors.user_by_id`` (the query compiled once per
database); every check simplejwt makes stays, in the same order, so a
deactivated or demoted user loses access on the very next request.

A client sends the same access token for minutes: decoding it and checking
its HMAC again on every request costs a third of a millisecond. A worker keeps
the tokens it has validated (at most ``VALIDATED_TOKENS_MAX``, then it starts
over) and only checks a known token's expiry again. The cache holds nothing a
client did not send and that was not already proven genuine.

With the Redis cache, the user's row comes from ``accounts.user_cache``: the
worker's copy, used only while the user's stamp in Redis (read on the round
trip the throttles make anyway) is the one it was read under.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import aware_utcnow, get_md5_hash_password

from accounts import user_cache
from accounts.selectors import user_by_id

VALIDATED_TOKENS_MAX = 4096
_validated_tokens: dict[bytes, object] = {}


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's bearer-token authentication; the user is read with one precompiled query,
    and a token already validated by this worker is only checked for expiry."""

    def authenticate(self, request):
        self.request = request  # for get_user; DRF makes the authenticators anew for each request
        return super().authenticate(request)

    def get_validated_token(self, raw_token):
        token = _validated_tokens.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
            except TokenError:
                _validated_tokens.pop(raw_token, None)  # expired: simplejwt says why, below
            else:
                return token
        token = super().get_validated_token(raw_token)
        if len(_validated_tokens) >= VALIDATED_TOKENS_MAX:
            _validated_tokens.clear()
        _validated_tokens[raw_token] = token
        return token

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error
        user = self._user(user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        return user

    def _user(self, claim):
        """The user the token's ``user_id`` claim names, as the database has it now, or None."""
        try:
            user_id = int(claim)
        except (TypeError, ValueError):
            return None
        cache = user_cache.shared_cache()
        return user_by_id(user_id) if cache is None else user_cache.current_user(cache, self.request, user_id)
