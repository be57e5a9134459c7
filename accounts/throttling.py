"""The accounts endpoints' own throttle: password-reset emails per address asked for."""

import hashlib

from rest_framework.exceptions import ParseError, UnsupportedMediaType

from api.throttling import FixedWindowThrottle


class PasswordResetEmailThrottle(FixedWindowThrottle):
    """``THROTTLE_PASSWORD_RESET_EMAIL`` per address asked for, from any IP: nobody can mail-bomb a user."""

    scope = "password_reset_email"

    def get_cache_key(self, request, view):
        # A body that does not parse names no address. DRF checks every throttle before
        # it answers, so raising here would turn the per-IP limit's 429 (already counted
        # in devlab_throttled_requests_total) into a 400; the view refuses the body later.
        try:
            data = request.data
        except (ParseError, UnsupportedMediaType):
            return None
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None  # the serializer answers 400
        # Hashed: the cache holds no address, and any address makes a valid key.
        ident = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
