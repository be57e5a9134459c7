"""Work that runs after the response, in a thread of its own.

For work whose duration must not show in the response time (mailing a
password-reset link only to addresses that have an account) or must not hold
a worker (a slow mail server). The thread runs with the request's context
(request id, client IP and user agent: the audit rows and log lines it writes
carry them), opens its own database connections and closes them when done.
An exception is logged, never raised: the response has already gone.
"""

import contextvars
import logging
import threading
from collections.abc import Callable

from django.db import connections, transaction

logger = logging.getLogger("devlab.background")


def run_after_commit(task: Callable[[], None], *, name: str) -> None:
    """Starts ``task`` in a new thread once the current transaction commits (at once outside one).

    Rows written before the call are committed by the time ``task`` reads
    them; nothing is started when the transaction rolls back.
    """
    context = contextvars.copy_context()

    def run() -> None:
        try:
            context.run(task)
        except Exception:
            logger.exception("background task %s failed", name)
        finally:
            connections.close_all()  # this thread's connections only

    transaction.on_commit(lambda: threading.Thread(target=run, name=name).start())
