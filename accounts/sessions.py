"""Django's database sessions, stored under a hash of the session key.

The session key is the credential a browser sends in its ``sessionid``
cookie (the admin site, the browsable API). Django stores it as the primary
key of ``django_session``, so anyone holding a copy of that table (a backup,
a replica, a support dump) could paste it into a cookie and be logged in as
an admin. Here the row's key is ``stored_key(session key)`` instead: the
cookie still carries the key, the table only its digest. A session key is
32 random characters, so an unsalted digest is as hard to invert as the key
is to guess. ``SESSION_ENGINE = "accounts.sessions"``.
"""

import hashlib
import logging

from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone


def stored_key(session_key: str) -> str:
    """The primary key a session is stored under: 40 hex characters (the column's length)."""
    return hashlib.blake2b(session_key.encode("utf-8"), digest_size=20, person=b"devlab-session").hexdigest()


def _log_suspicious(exc: SuspiciousOperation) -> None:
    logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))


class SessionStore(db.SessionStore):
    """``django.contrib.sessions.backends.db`` with every key hashed on its way to the database."""

    def _get_session_from_db(self):
        try:
            return self.model.objects.get(session_key=stored_key(self.session_key), expire_date__gt=timezone.now())
        except (self.model.DoesNotExist, SuspiciousOperation) as exc:
            if isinstance(exc, SuspiciousOperation):
                _log_suspicious(exc)
            self._session_key = None

    async def _aget_session_from_db(self):
        try:
            return await self.model.objects.aget(
                session_key=stored_key(self.session_key), expire_date__gt=timezone.now()
            )
        except (self.model.DoesNotExist, SuspiciousOperation) as exc:
            if isinstance(exc, SuspiciousOperation):
                _log_suspicious(exc)
            self._session_key = None

    def exists(self, session_key):
        return super().exists(stored_key(session_key))

    async def aexists(self, session_key):
        return await super().aexists(stored_key(session_key))

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.session_key = stored_key(instance.session_key)
        return instance

    async def acreate_model_instance(self, data):
        instance = await super().acreate_model_instance(data)
        instance.session_key = stored_key(instance.session_key)
        return instance

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.filter(session_key=stored_key(session_key)).delete()

    async def adelete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        await self.model.objects.filter(session_key=stored_key(session_key)).adelete()
