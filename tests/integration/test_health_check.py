"""A service's health() really checks its database, with a short deadline (issue #18): the gateway's
/ready asks every service for it (tests/faults/test_database_outage.py shows /ready naming a service
whose database is down, on real processes); here the check itself, on the real PostgreSQL.

- a database that refuses NEW connections is unavailable even while the pool keeps an open one that
  still answers (which the workers could not replace once it is cut);
- a server that accepts the TCP connection and never answers makes the check give up at its
  deadline (not libpq's connect timeout, whole seconds, nor never).
"""

import socket

import psycopg2
import pytest

from contracts.errors import ServiceUnavailable
from services.common import healthcheck
from services.common.db import PostgresStore, ensure_database
from services.common.health import health_report
from services.matching.service import MatchingService
from tests.support import free_port


@pytest.fixture
def store(test_env):
    url = test_env.database_url("healthcheck")
    ensure_database(url)
    store = PostgresStore(url, 2)
    yield store
    store.close()


@pytest.fixture
def refusing(test_env):
    """``refusing(url)``: that database takes no new connection (its open ones stay) until the test ends."""
    admin = psycopg2.connect(f"{test_env.postgres_base}/postgres")
    admin.autocommit = True
    names = []

    def refuse(url):
        name = url.rsplit("/", 1)[-1]
        names.append(name)
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')

    yield refuse
    with admin.cursor() as cur:
        for name in names:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    admin.close()


def test_a_database_refusing_new_connections_is_unavailable_though_a_kept_one_answers(store, refusing):
    assert health_report("svc", store) == {"service": "svc", "status": "ok", "database": "ok"}
    with store.transaction() as cur:  # the pool now keeps an open connection
        cur.execute("SELECT 1")
    refusing(store.url)
    with store.transaction() as cur:
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone()["one"] == 1  # the kept one still works...
    assert health_report("svc", store) == {"service": "svc", "status": "degraded", "database": "unavailable"}


def test_a_database_that_never_answers_is_unavailable_at_the_checks_deadline():
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        store = PostgresStore(f"postgresql://postgres@127.0.0.1:{port}/nothing", 1)
        try:
            with pytest.raises(ServiceUnavailable, match="did not answer within 0.5 s"):
                store.ping(timeout=0.5)
            assert health_report("svc", store)["database"] == "unavailable"
        finally:
            store.close()


def test_a_container_whose_own_process_is_not_serving_is_unhealthy_though_another_replica_answers(
    start_module_service, test_env
):
    """The container check asks the service over RPC, which any replica may answer: where metrics are
    served, this container's own process must also say it is ready, else a replica that never came up
    (or hangs) is called healthy - and a rolling update stops the old one for it."""
    port = free_port()
    start_module_service(MatchingService, METRICS_PORT=port)
    environ = {"AMQP_URI": test_env.amqp_uri, "METRICS_PORT": str(port)}
    healthy, report = healthcheck.check("matching", 5, environ)
    assert healthy, report
    assert list(report["this_process"]["databases"].values()) == [1.0]
    assert healthcheck.check("matching", 5, {"AMQP_URI": test_env.amqp_uri})[0]  # no metrics: RPC alone

    # the same service answers over RPC (above), but nothing of it listens where this container's would be
    healthy, report = healthcheck.check("matching", 5, dict(environ, METRICS_PORT=str(free_port())))
    assert not healthy and "error" in report["this_process"], report
