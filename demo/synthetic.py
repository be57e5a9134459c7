"""Synthetic audit history: plausible rows spread over the past year, for demos and benchmarks."""

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from audit.models import Action, TargetType

#: ``detail`` and ``user_agent`` of every synthetic row: they never pass for real events.
DETAIL = "seed"
USER_AGENT = "seed_audit"

_ACTIONS = list(Action)
_ANONYMOUS_ACTIONS = {Action.LOGIN_FAILED, Action.LOGIN_THROTTLED}


def _target_type(action: str) -> str | None:
    if action in _ANONYMOUS_ACTIONS or action == Action.ACCESS_DENIED:
        return None
    return TargetType.NOTE if action.startswith("note_") else TargetType.USER


def synthetic_entries(
    count: int, *, actors: Sequence[tuple[int | None, str]], now: datetime, seed: int | None = None
) -> Iterator[dict]:
    """``count`` audit rows' fields (no chain links), oldest first, evenly spread over the year
    before ``now``; actors drawn from ``actors`` (``(id, username)`` pairs), none for the
    anonymous actions; ``seed`` makes them repeatable."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    actors = list(actors) or [(None, "")]
    step = timedelta(days=365) / max(count, 1)
    for i in range(count):
        action = rng.choice(_ACTIONS)
        actor_id, username = (None, "") if action in _ANONYMOUS_ACTIONS else rng.choice(actors)
        target_type = _target_type(action)
        yield {
            "created_at": now - step * (count - i),
            "action": action.value,
            "actor_id": actor_id,
            "actor_username": username,
            "target_type": target_type,
            "target_id": rng.randrange(1, 100_000) if target_type else None,
            "detail": DETAIL,
            "ip": f"10.{rng.randrange(16)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "user_agent": USER_AGENT,
            "request_id": f"seed-{i}",
        }
