"""The accounts endpoints' own throttle: password-reset emails per address asked for."""

import hashlib

from api.throttling import FixedWindowThrottle


class PasswordResetEmailThrottle(FixedWindowThrottle):
    """``THROTTLE_PASSWORD_RESET_EMAIL`` per address asked for, from any IP: nobody can mail-bomb a user."""

    scope = "password_reset_email"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None  # the serializer answers 400
        # Hashed: the cache holds no address, and any address makes a valid key.
        ident = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
