"""Django's psycopg pool after PostgreSQL went away (restarted, failed over).

The pool does not test a connection before handing it out (that would be the
per-request round trip the pool replaced), so after a restart each idle
connection would fail one request in turn. When one request finds its
connection broken, ``check_pools`` has the pool test its idle connections at
once, so that the broken ones are replaced before they are handed out.
"""

import logging

from django.db import connections

logger = logging.getLogger(__name__)


def check_pools() -> None:
    """Tests the idle connections of every pooled database; broken ones are replaced."""
    for wrapper in connections.all(initialized_only=True):
        pool = getattr(wrapper, "pool", None)
        if pool is None:
            continue
        try:
            pool.check()
        except Exception:
            logger.warning("could not check the %s database's pool", wrapper.alias, exc_info=True)
