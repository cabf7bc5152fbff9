#!/bin/bash
# The official postgres image's contract, as docker-compose.yml relies on it: on an empty data folder,
# initdb with POSTGRES_USER (default postgres) and POSTGRES_PASSWORD (required; password logins over
# TCP), then /docker-entrypoint-initdb.d/*.sh and *.sql run against a server listening on its Unix
# socket only (TCP answers only once they are done), then the real server on every interface.
set -euo pipefail
: "${POSTGRES_USER:=postgres}"
export POSTGRES_USER
if [ "${1:-postgres}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set for a new database cluster}"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS: several arguments, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
           --auth-local=trust --auth-host=scram-sha-256 ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start >/dev/null
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) echo "entrypoint: running $script"; if [ -x "$script" ]; then "$script"; else . "$script"; fi ;;
            *.sql) echo "entrypoint: running $script"
                   psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -f "$script" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "entrypoint: initialisation done"
fi
if [ "${1:-postgres}" = postgres ]; then
    shift || true
    exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"
