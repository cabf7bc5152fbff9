"""Reliable publishing: an event committed but never published reaches its consumers after a
restart, and an event published twice (crash before the position was recorded) counts once."""

import uuid

import pytest

from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.integration.relay_helpers import publish_via_outbox
from tests.processes import ServiceProcess
from tests.support import actor, case_form, eventually, mentor_snapshot


@pytest.fixture
def cases_process(test_env, tmp_path):
    processes = []

    def start(**env):
        process_env = test_env.process_env()
        process_env.update(env)
        process = ServiceProcess("cases", process_env, tmp_path).start()
        processes.append(process)
        return process.wait_healthy(test_env.amqp_uri)

    yield start
    for process in processes:
        process.kill()


def test_committed_events_survive_a_crash_before_publish_and_count_once(
    test_env, start_service, cases_process, rpc, db
):
    start_service(MatchingService)
    start_service(NotificationsService)
    mentor_id = str(uuid.uuid4())
    publish_via_outbox(
        test_env, "identity", "MentorProfileUpdated", mentor_id, mentor_snapshot(mentor_id, ["self-management"])
    )
    eventually(lambda: rpc.matching.get_mentor(mentor_id))

    # 1. The case commits, but the relay never publishes: the process dies first.
    silent = cases_process(RELAY_ENABLED="false")
    mentee = actor("mentee")
    form = case_form(rubrics=["self-management"])
    request_id = str(uuid.uuid4())
    case_id = rpc.cases.create_case(mentee, form, request_id)["id"]
    silent.kill()  # nameko acks an RPC after replying: the request may be redelivered to the next process
    assert rpc.matching.get_proposals(case_id) == []

    # 2. After a restart the relay publishes from the log: matching proposes, cases records it.
    cases_process()
    assert rpc.cases.create_case(mentee, form, request_id)["id"] == case_id  # a retry files nothing new
    case = eventually(lambda: _in_state(rpc, mentee, case_id, "choosing_mentor"), timeout=20)
    assert case["version"] == 2
    eventually(lambda: rpc.notifications.list_inbox(mentee))

    # 3. Crash after publishing but before recording the position: everything goes out again.
    cases = db("cases")
    with cases.cursor() as cur:
        cur.execute("SELECT max(notification_id) FROM cases_events")
        last = cur.fetchone()[0]
    restarted = cases_process(RELAY_ENABLED="false")
    with cases.cursor() as cur:
        cur.execute("UPDATE relay_position SET position = 0 WHERE relay = 'cases'")
    restarted.kill()
    cases_process()
    eventually(lambda: _relay_position(cases) >= last, message="relay republished the whole log")
    eventually(lambda: _processed(db("matching")) >= 1)

    # Every effect exists exactly once.
    assert len(rpc.matching.get_proposals(case_id)) == 1
    with db("matching").cursor() as cur:
        cur.execute("SELECT count(*) FROM outbox WHERE envelope->'payload'->>'case_id' = %s", (case_id,))
        assert cur.fetchone()[0] == 1
    assert rpc.cases.get_case(mentee, case_id)["version"] == 2
    assert [e["kind"] for e in rpc.notifications.list_inbox(mentee)] == ["mentors_proposed"]


def _in_state(rpc, who, case_id, state):
    case = rpc.cases.get_case(who, case_id)
    return case if case["state"] == state else None


def _relay_position(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT position FROM relay_position WHERE relay = 'cases'")
        return cur.fetchone()[0]


def _processed(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM processed_events")
        return cur.fetchone()[0]
