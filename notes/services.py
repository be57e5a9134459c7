"""Writes of notes: the one place a note is created, changed or deleted.

Each service saves or deletes one instance, so Django's ``post_save`` and
``post_delete`` fire and the audit trail records the write (actor: the
owner) inside the same transaction: if recording fails, the write is rolled
back. Never ``QuerySet.update()``/``delete()`` or bulk writes on notes.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from notes.models import Note


@transaction.atomic
def note_create(*, owner: AbstractBaseUser, text: str) -> Note:
    """Creates a note of ``owner``; ``text`` is already validated and stripped."""
    now = timezone.now()
    note = Note(owner=owner, text=text, created_at=now, updated_at=now)
    note.save(force_insert=True)
    return note


@transaction.atomic
def note_update(*, note: Note, text: str) -> Note:
    """Replaces the text of ``note``; an unchanged text writes (and records) nothing."""
    if text != note.text:
        note.text, note.updated_at = text, timezone.now()
        note.save(update_fields=["text", "updated_at"])
    return note


@transaction.atomic
def note_delete(*, note: Note) -> None:
    """Deletes ``note``."""
    note.delete()
