"""The audit trail's one table: append-only, hash-chained entries.

Rows are inserted by ``audit.services`` only. The model refuses updates and
deletes (instance and queryset); a database trigger (migration 0002) refuses
them too, for SQL that does not go through Django.
"""

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from api.jsontime import utc_iso
from devlab.http import USER_AGENT_MAX_LENGTH

ACTOR_USERNAME_MAX_LENGTH = 150
DETAIL_MAX_LENGTH = 512
REQUEST_ID_MAX_LENGTH = 128
HASH_LENGTH = 64


#: The fields of an entry as the API, the export and the log mirror show them.
PUBLIC_FIELDS = (
    "id",
    "created_at",
    "action",
    "actor_id",
    "actor_username",
    "target_type",
    "target_id",
    "detail",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
    "hash",
)


def entry_document(values: Mapping) -> dict:
    """An entry's public fields as JSON-ready values (``created_at`` in ISO 8601, UTC, ``Z``)."""
    document = {name: values[name] for name in PUBLIC_FIELDS}
    document["created_at"] = utc_iso(document["created_at"])
    return document


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit entry through Django."""


class Action(models.TextChoices):
    SIGNUP = "signup", _("Sign-up")
    LOGIN_SUCCESS = "login_success", _("Login succeeded")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOGIN_THROTTLED = "login_throttled", _("Login throttled")
    LOGOUT = "logout", _("Logout")
    TOKEN_REUSE = "token_reuse", _("Refresh token reused")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PROFILE_UPDATED = "profile_updated", _("Profile updated")
    NOTE_CREATED = "note_created", _("Note created")
    NOTE_UPDATED = "note_updated", _("Note updated")
    NOTE_DELETED = "note_deleted", _("Note deleted")
    USER_PROMOTED = "user_promoted", _("User promoted")
    USER_DEMOTED = "user_demoted", _("User demoted")
    USER_UPDATED = "user_updated", _("User updated")
    USER_DELETED = "user_deleted", _("User deleted")
    ACCESS_DENIED = "access_denied", _("Access denied")
    PASSWORD_CHANGE_FAILED = "password_change_failed", _("Password change failed")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
    PASSWORD_RESET_DONE = "password_reset_done", _("Password reset done")
    MFA_ENABLED = "mfa_enabled", _("Two-factor login enabled")
    MFA_DISABLED = "mfa_disabled", _("Two-factor login disabled")
    MFA_FAILED = "mfa_failed", _("Second factor failed")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")


class TargetType(models.TextChoices):
    USER = "user", _("User")
    NOTE = "note", _("Note")


class AuditEntryQuerySet(models.QuerySet):
    """Reads only: every way of writing through a queryset is refused."""

    def _refuse(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries are written by audit.services.audit_record and never changed.")

    update = delete = bulk_update = update_or_create = _refuse
    create = get_or_create = bulk_create = _refuse


class AuditEntry(models.Model):
    """One thing that happened: who, what, to what, from where, chained to the previous entry."""

    created_at = models.DateTimeField(_("time"))  # indexed with id below
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    # No database constraint and no SET_NULL: either would have to rewrite an
    # append-only, hashed row when the user is deleted. The id stays as it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # covered by the (actor, created_at, id) index below
        related_name="+",
    )
    actor_username = models.CharField(_("actor username"), max_length=ACTOR_USERNAME_MAX_LENGTH, blank=True)
    # Null means "no target" (the API says null too), distinct from any type.
    target_type = models.CharField(  # noqa: DJ001
        _("target type"), max_length=8, choices=TargetType.choices, null=True, blank=True
    )
    target_id = models.PositiveBigIntegerField(_("target id"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=DETAIL_MAX_LENGTH, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=USER_AGENT_MAX_LENGTH, blank=True)
    request_id = models.CharField(_("request id"), max_length=REQUEST_ID_MAX_LENGTH, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=HASH_LENGTH)
    hash = models.CharField(_("hash"), max_length=HASH_LENGTH)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        # Newest first; id breaks ties. created_at is taken under the chain lock,
        # so this is also the chain's order, barring a clock stepping back.
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list (and since/until) and each filter, in the list's order:
            # every filter, with or without a time window, is one index range
            # scan read backwards (EXPLAIN at a million rows in the README).
            models.Index(fields=["created_at", "id"], name="audit_created_idx"),
            models.Index(fields=["action", "created_at", "id"], name="audit_action_created_idx"),
            models.Index(fields=["actor", "created_at", "id"], name="audit_actor_created_idx"),
            models.Index(fields=["ip", "created_at", "id"], name="audit_ip_created_idx"),
        ]
        constraints = [
            # Two entries with the same predecessor would be a fork: the
            # database refuses it even if a writer skipped the chain lock.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_chain_no_fork"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_username or '-'}"

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields") is not None:
            raise AppendOnlyError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted.")

    @property
    def target(self) -> str:
        """``note #12``, ``user #3``, or an empty string."""
        return f"{self.target_type} #{self.target_id}" if self.target_type else ""


class Checkpoint(models.Model):
    """A signed checkpoint of the audit log's Merkle tree (AUDIT.md section 10).

    Written by ``manage.py audit_checkpoint`` only, never changed. ``edge`` is
    the tree's right edge at ``tree_size`` (audit/merkle.py ``CompactRange``):
    all that the next checkpoint needs to extend the tree with the new
    entries alone.
    """

    created_at = models.DateTimeField(_("time"))
    origin = models.CharField(_("origin"), max_length=255)
    tree_size = models.PositiveBigIntegerField(_("tree size"))
    root_hash = models.CharField(_("root hash"), max_length=44)  # base64 of 32 bytes
    # The id of the entry that is leaf tree_size - 1 (null for the empty tree).
    last_entry_id = models.BigIntegerField(_("last entry id"), null=True, blank=True)
    edge = models.BinaryField(_("right edge"))
    note = models.TextField(_("signed checkpoint"))
    verifier_key = models.CharField(_("verifier key"), max_length=512)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-tree_size", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "tree_size"], name="audit_checkpoint_once_per_size"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} ({self.origin})"

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields") is not None:
            raise AppendOnlyError("Checkpoints cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Checkpoints cannot be deleted.")


#: Hashes per tile: a segment row holds part of one tile.
TILE_WIDTH = 256
TILE_HEIGHT = 8  # TILE_WIDTH == 2 ** TILE_HEIGHT


class MerkleSegment(models.Model):
    """Stored hashes of the Merkle tree, for proofs without a rebuild.

    Tiles as in C2SP tlog-tiles: tile ``tile`` of ``level`` holds the hashes of
    the tree's nodes at height ``level * 8``, indexes ``tile * 256`` to
    ``tile * 256 + 255``. Each checkpoint appends the new hashes of a tile as
    one segment starting at ``start`` (so every hash is stored once, and rows
    are only ever inserted). Level-0 segments also hold the audit entry ids of
    their leaves (8 bytes each, big-endian), to find a leaf's index by id.
    """

    level = models.PositiveSmallIntegerField()
    tile = models.PositiveBigIntegerField()
    start = models.PositiveSmallIntegerField()
    hashes = models.BinaryField()
    entry_ids = models.BinaryField(null=True, blank=True)
    first_entry_id = models.BigIntegerField(null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("Merkle tree segment")
        verbose_name_plural = _("Merkle tree segments")
        constraints = [
            models.UniqueConstraint(fields=["level", "tile", "start"], name="audit_merkle_segment_once"),
        ]
        indexes = [models.Index(fields=["level", "first_entry_id"], name="audit_merkle_segment_entry_idx")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.tile} from {self.start}"

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields") is not None:
            raise AppendOnlyError("Merkle segments cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Merkle segments cannot be deleted.")
