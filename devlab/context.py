"""What is known about the current request before any view runs.

The middleware in ``devlab.http`` sets a ``RequestContext`` for the life of
each request; code that records what happened (request logs, audit rows)
reads it through ``current()``. Outside a request (the CLI, a shell) there is
none and ``current()`` returns ``None``.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestContext:
    request_id: str
    ip: str | None
    user_agent: str
    # Work that must outlive the view's transaction (e.g. audit rows for a
    # failed request under ATOMIC_REQUESTS); the middleware runs it after the
    # view has returned and its transaction has ended.
    after_response: list[Callable[[], None]] = field(default_factory=list)


_current: ContextVar[RequestContext | None] = ContextVar("devlab_request_context", default=None)


def current() -> RequestContext | None:
    """The context of the request being served, or None outside a request."""
    return _current.get()


def activate(context: RequestContext | None):
    """Make ``context`` current; returns a token for ``deactivate``."""
    return _current.set(context)


def deactivate(token) -> None:
    _current.reset(token)
