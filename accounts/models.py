"""The user model: Django's AbstractUser, unique case-insensitively."""

import unicodedata

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower


def username_key(username: str) -> str:
    """The form two usernames are compared in: NFKC-normalised, lower case."""
    return unicodedata.normalize("NFKC", username).lower()


class UserQuerySet(models.QuerySet):
    def by_username(self, username: str) -> "UserQuerySet":
        """Users whose username matches ``username`` ignoring case (uses the unique index)."""
        # The database lowers both sides, so lookup and unique index agree even
        # where SQL's lower() and Python's str.lower() differ (SQLite: ASCII only).
        normalized = unicodedata.normalize("NFKC", username)
        return self.alias(username_lower=Lower("username")).filter(username_lower=Lower(Value(normalized)))

    def by_email(self, email: str) -> "UserQuerySet":
        """Users whose email matches ``email`` ignoring case (uses the unique index)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username):
        # Login, createsuperuser and the admin find "Alice" as "alice".
        return self.by_username(username).get()


class User(AbstractUser):
    """A DevLab user. ``is_staff`` is what the API calls ``is_admin``."""

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
            ),
        ]

    @property
    def is_admin(self) -> bool:
        return self.is_staff


class RecoveryCode(models.Model):
    """One single-use recovery code of a user's two-factor login (``accounts.mfa``).

    Only a keyed hash of the code is stored (``digest``): the codes are shown
    once, at enrollment, and a copy of the table does not reveal them.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "digest"], name="accounts_recoverycode_user_digest")]

    def __str__(self) -> str:
        return f"recovery code #{self.pk} of user #{self.user_id}"
