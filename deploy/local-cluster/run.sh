#!/usr/bin/env bash
# Two DevLab instances behind nginx on loopback, one PostgreSQL, one Redis (db 5).
#   deploy/local-cluster/run.sh [--port 8080] [--workers 2] [--database-url URL]
# DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/devlab (created
# when missing). nginx is installed with apt-get when missing. Ctrl-C stops
# every process the script started.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")/../.."

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/devlab}"
export DATABASE_URL
db="${DATABASE_URL##*/}"
admin="${DATABASE_URL%/*}/postgres"
if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '${db}'" | grep -q 1; then
  psql "$admin" -qc "CREATE DATABASE \"${db}\""
fi
if ! redis-cli -n 5 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
exec .venv/bin/python -m reliability.cluster "$@"
