#!/usr/bin/env bash
# Runs the container's own start command (docker/entrypoint.sh + gunicorn) on
# the host against PostgreSQL: readiness, static files with DEBUG=False, and a
# clean exit on SIGTERM. Usage: entrypoint_smoke.sh DATABASE_URL
set -euo pipefail
cd "$(dirname "$0")/.."

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:${port}"
log=test-results/entrypoint.log

export DATABASE_URL="$1" DEBUG=False ALLOWED_HOSTS=127.0.0.1,localhost
export SECRET_KEY="entrypoint-smoke-$(date +%s)-not-a-real-secret-0123456789abcdef"
export PYTHON=.venv/bin/python GUNICORN_BIND="127.0.0.1:${port}" GUNICORN_WORKERS=2
export PATH="$PWD/.venv/bin:$PATH"

docker/entrypoint.sh gunicorn devlab.wsgi --config gunicorn.conf.py >"$log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT

for _ in $(seq 1 60); do
  curl -fsS "${base}/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "entrypoint exited early" >&2; exit 1; }
  sleep 1
done
curl -fsS "${base}/readyz" | grep -q '"database": "ok"' || { cat "$log"; exit 1; }
echo "readyz: ok"

css=$(curl -fsS "${base}/admin/login/" | grep -o '/static/admin/css/base[^"]*\.css' | head -n 1)
[ -n "$css" ] && curl -fsS -o /dev/null "${base}${css}" || { echo "admin CSS not served" >&2; exit 1; }
echo "static files: ok (${css})"
curl -fsS -o /dev/null "${base}/docs" && echo "docs: ok"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
trap - EXIT
if [ "$rc" -ne 0 ]; then
  cat "$log"
  echo "gunicorn exited with ${rc} after SIGTERM" >&2
  exit 1
fi
echo "SIGTERM: gunicorn exited cleanly"
