"""Verification in the background, for tables too large to verify within a request.

``GET /api/audit/verify/`` re-computes the whole chain inside the request:
seconds per million entries, so past a few million gunicorn's worker timeout
(30 s) would kill it. ``POST /api/audit/verify/jobs/`` starts the same
``audit_verify`` in a thread of the web process instead and answers 202 with a
status URL at once; the job's state (progress, then the result) lives in the
shared cache, so any worker answers ``GET /api/audit/verify/jobs/<id>/``.

One job runs at a time: a second request gets the running job. A job whose
worker died (a restart, ``max_requests``) stops sending heartbeats and is
reported ``lost`` after ``LOST_AFTER`` seconds; start another.
"""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict

from django.core.cache import cache
from django.db import connection

from audit.services import audit_verify

logger = logging.getLogger("audit")

JOB_TTL = 24 * 3600
LOST_AFTER = 120
PROGRESS_EVERY = 50_000
_CURRENT = "audit:verify-job:current"


def _key(job_id: str) -> str:
    return f"audit:verify-job:{job_id}"


def _in_thread(target: Callable[[], None]) -> None:
    threading.Thread(target=target, name="audit-verify-job", daemon=True).start()


#: How a job is started: a daemon thread (tests run it inline).
runner: Callable[[Callable[[], None]], None] = _in_thread


def _save(state: dict) -> None:
    cache.set(_key(state["id"]), state, JOB_TTL)


def verify_job_get(job_id: str) -> dict | None:
    """The job's state: ``running`` (with ``checked`` so far), ``done`` (with ``result``),
    ``failed``, or ``lost`` when its heartbeat stopped."""
    state = cache.get(_key(job_id))
    if state is not None and state["status"] == "running" and time.time() - state["heartbeat"] > LOST_AFTER:
        state = {**state, "status": "lost"}
    return state


def verify_job_start() -> tuple[dict, bool]:
    """(the job's state, whether it was started now); a running job is returned instead
    of starting a second one."""
    current = cache.get(_CURRENT)
    if current is not None:
        state = verify_job_get(current)
        if state is not None and state["status"] == "running":
            return state, False
    state = {"id": uuid.uuid4().hex, "status": "running", "checked": 0, "started_at": time.time()}
    state["heartbeat"] = state["started_at"]
    _save(state)
    cache.set(_CURRENT, state["id"], JOB_TTL)
    runner(lambda: _run(dict(state)))
    return state, True


def _run(state: dict) -> None:
    def progress(checked: int) -> None:
        state.update(checked=checked, heartbeat=time.time())
        _save(state)

    try:
        result = audit_verify(progress=progress, progress_every=PROGRESS_EVERY)
        state.update(status="done", checked=result.checked, result=asdict(result), heartbeat=time.time())
    except Exception:
        logger.exception("audit verification job %s failed", state["id"])
        state.update(status="failed", heartbeat=time.time())
    finally:
        _save(state)
        if threading.current_thread() is not threading.main_thread():
            connection.close()  # this thread's own connection
