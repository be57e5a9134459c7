"""Adding demo data; the audit rows go through the audit app's own batch append."""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.services import audit_append_batch
from demo.synthetic import synthetic_entries


def audit_seed(
    *, rows: int, batch_size: int = 5000, progress: Callable[[int], None] | None = None, seed: int | None = None
) -> int:
    """Appends ``rows`` synthetic entries (benchmarks and demos); returns how many.

    The rows continue the chain (``audit_append_batch``: each batch under the
    chain lock, in its own transaction). Actors are drawn from up to 1,000
    existing users (or none); times are spread over the past year; ``detail``
    says ``seed``. Never run it against an audit trail you need: audit rows
    cannot be deleted.
    """
    users = get_user_model()._default_manager.order_by("?").values_list("pk", "username")[:1000]
    entries = synthetic_entries(rows, actors=list(users), now=timezone.now(), seed=seed)
    return audit_append_batch(entries, batch_size=batch_size, progress=progress)
