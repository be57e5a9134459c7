#!/usr/bin/env bash
# Runs the container's own start command (docker/entrypoint.sh + gunicorn) on
# the host against PostgreSQL, with two roles as compose does: migrations as the
# owner (MIGRATION_DATABASE_URL, the given URL), the server as a runtime role
# made for this run. Checks readiness, that the server runs as the runtime role
# without the owner's URL and cannot unprotect the audit table, static files
# with DEBUG=False, and a clean exit on SIGTERM.
# Usage: entrypoint_smoke.sh OWNER_DATABASE_URL (a superuser under trust auth, as in CI)
set -euo pipefail
cd "$(dirname "$0")/.."

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:${port}"
log=test-results/entrypoint.log
owner_url="$1"
role="devlab_smoke_$$"
runtime_url=$(.venv/bin/python -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(netloc=f"{sys.argv[2]}@{p.hostname}:{p.port or 5432}").geturl())' "$owner_url" "$role")

# The role exists with a login before the first start, as compose's init script makes it.
psql "$owner_url" -qc "CREATE ROLE ${role} LOGIN"
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  psql "$owner_url" -qc "DROP OWNED BY ${role}" -c "DROP ROLE ${role}" >/dev/null 2>&1 || true
}
trap cleanup EXIT

export DATABASE_URL="$runtime_url" MIGRATION_DATABASE_URL="$owner_url" DEBUG=False ALLOWED_HOSTS=127.0.0.1,localhost
export SECRET_KEY="entrypoint-smoke-$(date +%s)-not-a-real-secret-0123456789abcdef"
export PYTHON=.venv/bin/python GUNICORN_BIND="127.0.0.1:${port}" GUNICORN_WORKERS=2
export PATH="$PWD/.venv/bin:$PATH"

docker/entrypoint.sh gunicorn devlab.wsgi --config gunicorn.conf.py >"$log" 2>&1 &
pid=$!

for _ in $(seq 1 60); do
  curl -fsS "${base}/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "entrypoint exited early" >&2; exit 1; }
  sleep 1
done
curl -fsS "${base}/readyz" | grep -q '"database": "ok"' || { cat "$log"; exit 1; }
echo "readyz: ok"

served_by=$(psql "$owner_url" -Atc "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''")
[ "$served_by" = "$role" ] || { echo "the server is connected as '${served_by}', not the runtime role ${role}" >&2; exit 1; }
if tr '\0' '\n' <"/proc/${pid}/environ" | grep -q '^MIGRATION_DATABASE_URL='; then
  echo "the server's environment holds the owner's MIGRATION_DATABASE_URL" >&2; exit 1
fi
if psql "$runtime_url" -qc "ALTER TABLE audit_auditentry DISABLE TRIGGER USER" 2>/dev/null; then
  echo "the runtime role could disable the audit table's trigger" >&2; exit 1
fi
echo "runtime role: ok (${role}: no owner URL, cannot unprotect the audit table)"

css=$(curl -fsS "${base}/admin/login/" | grep -o '/static/admin/css/base[^"]*\.css' | head -n 1)
[ -n "$css" ] && curl -fsS -o /dev/null "${base}${css}" || { echo "admin CSS not served" >&2; exit 1; }
echo "static files: ok (${css})"
curl -fsS -o /dev/null "${base}/docs" && echo "docs: ok"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" -ne 0 ]; then
  cat "$log"
  echo "gunicorn exited with ${rc} after SIGTERM" >&2
  exit 1
fi
echo "SIGTERM: gunicorn exited cleanly"
