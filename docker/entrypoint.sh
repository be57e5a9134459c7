#!/usr/bin/env bash
# Container start: wait for the database, migrate, collect static files, then
# hand over to the command (gunicorn by default). CI runs this same script on
# the host (.ci/run) to prove it works without a Docker engine.
#
# Two database roles (docs/operations.md, "Two database roles"): when
# MIGRATION_DATABASE_URL is set, migrate and createcachetable run as that
# owner role, then `db_runtime_role` grants the role of DATABASE_URL (its user)
# the runtime rights (append-only on the audit tables, also for tables this
# migrate just added), and the command serves with DATABASE_URL, without the
# owner's URL in its environment. Unset: everything runs as DATABASE_URL.
set -o errexit -o nounset -o pipefail

PYTHON="${PYTHON:-python}"
DB_WAIT_SECONDS="${DB_WAIT_SECONDS:-60}"
MIGRATION_DATABASE_URL="${MIGRATION_DATABASE_URL:-}"

# Runs a command as the owner: with MIGRATION_DATABASE_URL for that command only.
owner_env() {
  if [ -n "$MIGRATION_DATABASE_URL" ]; then
    DATABASE_URL="$MIGRATION_DATABASE_URL" "$@"
  else
    "$@"
  fi
}
as_owner() { owner_env "$PYTHON" manage.py "$@"; }

# Waits for the database, as the owner.
owner_env "$PYTHON" - <<'PY'
import os, sys, time
import django
from django.db import connection
from django.db.utils import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlab.settings")
django.setup()
deadline = time.monotonic() + int(os.environ.get("DB_WAIT_SECONDS", "60"))
while True:
    try:
        connection.ensure_connection()
        break
    except OperationalError:
        if time.monotonic() > deadline:
            sys.exit("entrypoint: the database did not become reachable in time")
        print("entrypoint: waiting for the database ...", file=sys.stderr, flush=True)
        time.sleep(1)
PY

if [ "${SKIP_MIGRATE:-0}" != "1" ]; then
  as_owner migrate --noinput
  as_owner createcachetable
  if [ -n "$MIGRATION_DATABASE_URL" ]; then
    runtime_role=$("$PYTHON" -c 'import os, environ; print(environ.Env.db_url_config(os.environ["DATABASE_URL"])["USER"])')
    as_owner db_runtime_role "$runtime_role"
  fi
fi
unset MIGRATION_DATABASE_URL
"$PYTHON" manage.py collectstatic --noinput --verbosity 0

exec "$@"
