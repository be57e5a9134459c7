#!/usr/bin/env bash
# Container start: wait for the database, migrate, collect static files, then
# hand over to the command (gunicorn by default). CI runs this same script on
# the host (.ci/run) to prove it works without a Docker engine.
set -o errexit -o nounset -o pipefail

PYTHON="${PYTHON:-python}"
DB_WAIT_SECONDS="${DB_WAIT_SECONDS:-60}"

"$PYTHON" - <<'PY'
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
  "$PYTHON" manage.py migrate --noinput
  "$PYTHON" manage.py createcachetable
fi
"$PYTHON" manage.py collectstatic --noinput --verbosity 0

exec "$@"
