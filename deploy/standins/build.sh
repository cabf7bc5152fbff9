#!/usr/bin/env bash
# Local stand-ins for the third-party images docker-compose.yml runs, built from Debian bookworm's own
# packages, for a machine that cannot pull from Docker Hub (this project's CI). Each honours the part
# of its official image's contract the compose file relies on:
#   python    python 3.11 with pip, as python:3.11-slim (the base of deploy/Dockerfile)
#   postgres  PostgreSQL 15: POSTGRES_PASSWORD/POSTGRES_USER, /docker-entrypoint-initdb.d run once by
#             a server listening on its socket only, pg_isready, as postgres:15
#   rabbitmq  RabbitMQ 3.10: RABBITMQ_DEFAULT_USER/PASS, rabbitmq-diagnostics, as rabbitmq:3.10-management
#   mailpit   an SMTP catcher on 1025 with the part of mailpit's page and API the tests read on 8025,
#             and `/mailpit readyz`, as axllent/mailpit
# Usage: deploy/standins/build.sh     (prints the .env lines that choose the stand-ins, e.g.
#        POSTGRES_IMAGE=mentor-standin/postgres:15; docker-compose.yml's defaults are the official names)
# Cached on this machine: the debootstrap root file system in $STANDINS_CACHE (a tarball) and the
# images in the engine (docker build's layer cache), so a second run takes seconds.
# Only the python stand-in trusts this machine's package-index CA (the one pip here is configured
# with): it exists for builds on this machine only; an operator's image is built on the real python.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${STANDINS_CACHE:-/var/cache/mentor-standins}
PREFIX=${STANDINS_PREFIX:-mentor-standin}
BASE="$PREFIX/debian:bookworm"

# The Debian mirror this machine's apt uses (deb822 .sources first, then the one-line format).
debian_mirror() {
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

# The CA bundle pip on this machine trusts for the package index (`pip config list`: cert).
pip_ca() {
    local ca=${PIP_CERT:-}
    [ -n "$ca" ] || ca=$(python3 -m pip config list 2>/dev/null | sed -n "s/^[a-z:.]*cert='\(.*\)'$/\1/p" | head -n1)
    echo "${ca:-/etc/ssl/certs/ca-certificates.crt}"
}

log() { echo "standins: $*" >&2; }

# One build at a time on this machine: two at once (two test workers, two operators) would each
# debootstrap and import the same images; the second waits and finds them cached.
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    rootfs_tar="$CACHE/bookworm-minbase.tar"
    if [ ! -s "$rootfs_tar" ]; then
        command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y -qq debootstrap >/dev/null; }
        mkdir -p "$CACHE"
        work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
        log "debootstrap bookworm from $(debian_mirror) (once per machine)"
        debootstrap --variant=minbase bookworm "$work" "$(debian_mirror)" >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
        rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*
        tar -C "$work" -cf "$rootfs_tar.part" . && mv "$rootfs_tar.part" "$rootfs_tar"
        rm -rf "$work"
    fi
    log "importing $BASE"
    docker import "$rootfs_tar" "$BASE" >/dev/null
fi

# Every stand-in: docker build of deploy/standins/<name> on the base (the layer cache skips what is built).
build() {
    local name=$1 tag=$2 context
    context=$(mktemp -d)
    cp -r "$HERE/$name/." "$context/"
    [ "$name" != python ] || cp "$(pip_ca)" "$context/pip-ca.crt"
    log "building $tag"
    # the classic builder: BuildKit is not in Debian's engine; its deprecation notice goes with the log
    if ! DOCKER_BUILDKIT=0 docker build --build-arg "BASE=$BASE" -t "$tag" "$context" >"$context.log" 2>&1; then
        tail -n 30 "$context.log" >&2; rm -rf "$context" "$context.log"; log "building $tag failed"; exit 1
    fi
    rm -rf "$context" "$context.log"
}

build python "$PREFIX/python:3.11-slim"
build postgres "$PREFIX/postgres:15"
build rabbitmq "$PREFIX/rabbitmq:3.10-management"
build mailpit "$PREFIX/mailpit:v1.27"

# The .env lines that choose them (docker-compose.yml reads these variables).
echo "PYTHON_IMAGE=$PREFIX/python:3.11-slim"
echo "POSTGRES_IMAGE=$PREFIX/postgres:15"
echo "RABBITMQ_IMAGE=$PREFIX/rabbitmq:3.10-management"
echo "MAILPIT_IMAGE=$PREFIX/mailpit:v1.27"
