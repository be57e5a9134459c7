"""DevLab with its audit append skipped: a bound for the benchmarks, never a server.

``bench.compare`` measures note creation with this WSGI application beside
DevLab itself, on the same database, to say in numbers what the audit row
costs a create: the chain lock and head read, the HMAC, the insert and its
indexes, the mirror line and the metrics (``bench/README.md``, "Why 2x is
not reached reliably"). Everything else is DevLab's own code: the signal
receivers still run and build the row's fields; only ``_append`` returns
None (as ``audit_record`` does for a deferred row) instead of writing it.

It refuses to start on any database but one of ``bench.compare``'s
throwaway ``devlab_compare_*`` databases, and ``bench/`` is not in the
container image (``.dockerignore``).
"""

import os
import urllib.parse

from bench.compare import DATABASE_PREFIX


def database_name(url: str) -> str:
    return urllib.parse.urlsplit(url).path.lstrip("/")


if not database_name(os.environ.get("DATABASE_URL", "")).startswith(DATABASE_PREFIX):
    raise SystemExit(f"bench.without_audit serves only a {DATABASE_PREFIX}_* database of bench.compare")

from devlab.wsgi import application  # noqa: E402 - after the refusal: nothing of DevLab loads for another database


def skip_audit_append() -> None:
    """Makes ``audit.services._append`` write nothing: no entry, lock, head, hash, insert or after-commit work."""
    from audit import services

    services._append = lambda fields: None


skip_audit_append()

__all__ = ["application"]
