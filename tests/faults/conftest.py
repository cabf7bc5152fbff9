"""Fault tests: services run as real `nameko run` processes (tests/processes.py) on the session's
vhost and databases; each test starts what it needs and kills it afterwards, and begins with empty
consumer queues so that events left by an earlier test cannot leak into its counts."""

import pytest

from contracts.topology import SUBSCRIPTIONS
from tests.faults.helpers import OBSERVER, service_env
from tests.integration.event_helpers import give_up_emails, purge
from tests.processes import ServiceProcess

ALL_QUEUES = [s.queue for s in SUBSCRIPTIONS] + [f"{s.queue}.parked" for s in SUBSCRIPTIONS]


@pytest.fixture(autouse=True)
def observer_connections(monkeypatch):
    """The test's own database connections carry OBSERVER as application_name (tests/faults/helpers.py)."""
    monkeypatch.setenv("PGAPPNAME", OBSERVER)


@pytest.fixture
def services(test_env, tmp_path):
    """``services("matching", RELAY_ENABLED="false")`` starts a healthy service process."""
    purge(test_env.amqp_uri, *ALL_QUEUES)
    started = []

    def start(name, **env):
        process_env = service_env(test_env)
        # no e-mail rounds: identity is not running here, and the session database keeps earlier
        # tests' e-mail rows, whose failing attempts would only slow down the consumer under test
        process_env["EMAIL_POLL_INTERVAL"] = "3600"
        process_env.update(env)
        process = ServiceProcess(name, process_env, tmp_path).start()
        started.append(process)
        return process.wait_healthy(test_env.amqp_uri)

    yield start
    for process in started:
        process.terminate()
    for process in started:
        process.kill()
    if any(process.name == "notifications" for process in started):
        give_up_emails(test_env)  # the bursts' e-mails, for people identity never knew
