#!/bin/bash
# The official rabbitmq image's contract, as docker-compose.yml relies on it: the account of
# RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS (default guest/guest) on the default vhost, made on the
# first start of an empty node; other settings from files mounted in /etc/rabbitmq/conf.d.
set -euo pipefail
{
    printf 'loopback_users = none\n'
    printf 'listeners.tcp.default = 5672\n'
    printf 'management.tcp.port = 15672\n'
    printf 'default_user = %s\n' "${RABBITMQ_DEFAULT_USER:-guest}"
    printf 'default_pass = %s\n' "${RABBITMQ_DEFAULT_PASS:-guest}"
    printf 'default_vhost = %s\n' "${RABBITMQ_DEFAULT_VHOST:-/}"
} >/etc/rabbitmq/conf.d/00-default-user.conf
exec "$@"
