#!/bin/bash
# Runs once, when the postgres container starts on an empty volume
# (/docker-entrypoint-initdb.d). For each service it creates a login role and a
# database owned by it, both taken from that service's own connection URL:
#   CASES_DATABASE_URL=postgresql://mentor_cases:<password>@postgres:5432/mentor_cases
# so .env is the one place to change a name or a password. Passwords must be URL-safe
# (letters, digits, - _ . ~). A service never needs the superuser: its database exists
# before it starts, and it creates its own tables in it.
# Every database is UTF-8 whatever the cluster's default (one initialised under the C locale is
# SQL_ASCII, and template1 with it): from template0, the one template that takes another encoding.
# The services refuse to start on a database that is not UTF-8 (services/common/db.py).
# Changing a URL later does not touch an existing volume: alter the role by hand, or
# `docker compose down -v` (which deletes all data) and start again.
set -euo pipefail

for var in CASES_DATABASE_URL MATCHING_DATABASE_URL NOTIFICATIONS_DATABASE_URL \
           LIBRARY_DATABASE_URL IDENTITY_DATABASE_URL; do
    url="${!var:?$var is not set for the postgres container}"
    rest="${url#*://}"              # user:password@host:port/db?params
    credentials="${rest%%@*}"       # user:password
    role="${credentials%%:*}"
    password=""
    [[ "$credentials" == *:* ]] && password="${credentials#*:}"
    database="${rest#*/}"
    database="${database%%\?*}"
    echo "init: role $role, database $database ($var)"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
         -v role="$role" -v password="$password" -v database="$database" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0', :'database', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'database') \gexec
SQL
done
