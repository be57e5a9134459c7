#!/usr/bin/env bash
# PostgreSQL's image runs this once, when it initialises an empty data volume
# (docker-compose.yml mounts this directory on /docker-entrypoint-initdb.d).
# It creates the runtime role the app connects as, devlab_app, with a login
# and DEVLAB_DB_PASSWORD. Its rights come from the api's entrypoint, which
# runs `manage.py db_runtime_role devlab_app` as the owner (POSTGRES_USER)
# after every migrate: ordinary rights on every table, SELECT and INSERT only
# on the audit tables (docs/operations.md, "Two database roles").
set -o errexit -o nounset -o pipefail
: "${DEVLAB_DB_PASSWORD:?DEVLAB_DB_PASSWORD must be set for the db service}"

# The password goes in as a psql variable (:'...' quotes it), never inside the SQL text.
psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set app_password="$DEVLAB_DB_PASSWORD" <<'SQL'
CREATE ROLE devlab_app LOGIN PASSWORD :'app_password';
SQL
