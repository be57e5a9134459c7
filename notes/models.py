"""The Note: a user's private text, listed newest first."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: Longest note, in characters (Unicode code points), after stripping.
TEXT_MAX_LENGTH = 10_000


class Note(models.Model):
    """A note belongs to one user and goes with them (``CASCADE``).

    The audit trail listens to this model's ``post_save``/``post_delete``
    (the owner is the actor), so notes are written through
    ``notes.services`` and saved or deleted one instance at a time.
    """

    # No index of its own: every index below starts with owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notes",
        db_index=False,
        verbose_name=_("owner"),
    )
    text = models.TextField(_("text"))
    # Stamped by notes.services with one clock reading, so that a note never
    # edited has updated_at == created_at (auto_now/auto_now_add would read
    # the clock twice, microseconds apart).
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ("-created_at", "-id")
        # A user's list is a range scan of one of these, in either direction,
        # for each ordering the API offers; id breaks ties between equal times
        # so that cursor pages are deterministic.
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="notes_owner_created_idx"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="notes_owner_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), TEXT_MAX_LENGTH),
                name="notes_note_text_max_length",
            ),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk}"
