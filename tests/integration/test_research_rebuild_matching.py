"""`mentor-research rebuild matching` equals the live read model; verify names a tampered row."""

import uuid
from datetime import date

import psycopg2
import pytest

from services.cases.service import CasesService
from services.matching.service import MatchingService
from tests.actors import signed_rpc
from tests.integration.event_helpers import open_broker
from tests.integration.relay_helpers import publish_via_outbox
from tests.support import actor, case_form, eventually, mentor_snapshot, run_research

RUBRIC = "digital-technologies"


@pytest.fixture(scope="module")
def live(start_module_service, test_env):
    urls = {name: test_env.database_url(f"rebuild_m_{name}") for name in ("identity", "cases", "matching")}
    conn, _ = open_broker(test_env.amqp_uri)  # earlier modules' leftovers would enter this live model
    for queue in ("matching.case-events", "matching.identity-events", "cases.matching-events"):
        conn.default_channel.queue_purge(queue)
    conn.release()
    start_module_service(MatchingService, DATABASE_URL=urls["matching"])
    start_module_service(CasesService, DATABASE_URL=urls["cases"])
    mentors = [str(uuid.uuid4()) for _ in range(3)]
    for n, mentor_id in enumerate(mentors):
        publish_via_outbox(
            test_env,
            "identity",
            "MentorProfileUpdated",
            mentor_id,
            mentor_snapshot(
                mentor_id,
                [RUBRIC] if n else [RUBRIC, "self-management"],
                away_periods=[{"starts_on": date(2020, 1, 1), "ends_on": date(2020, 1, 31)}],
            ),
            url=urls["identity"],
        )
    publish_via_outbox(
        test_env,
        "identity",
        "MentorProfileUpdated",
        mentors[2],  # a later change wins
        mentor_snapshot(mentors[2], [RUBRIC], accepting_cases=False),
        url=urls["identity"],
    )
    mentee = actor("mentee")
    with signed_rpc(test_env.amqp_uri, timeout=15) as rpc:
        eventually(lambda: rpc.matching.get_mentor(mentors[2])["accepting_cases"] is False)
        case_id = rpc.cases.create_case(mentee, case_form(rubrics=[RUBRIC, "self-management"]))["id"]
        eventually(lambda: rpc.cases.get_case(mentee, case_id)["state"] == "choosing_mentor")
        first = rpc.cases.get_case(mentee, case_id)["proposed_mentors"][0]["mentor_id"]
        rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": first})
        rpc.cases.decline_case({"user_id": first, "role": "mentor"}, case_id, {"reason": "busy"})
        eventually(lambda: len(rpc.matching.get_proposals(case_id)) == 2, message="second round")
    return urls


def rebuild(live, test_env, name):
    url = test_env.database_url(f"rebuilt_m_{name}")
    code, out = run_research(
        "rebuild",
        "matching",
        "--identity-url",
        live["identity"],
        "--cases-url",
        live["cases"],
        "--matching-url",
        live["matching"],
        "--into-url",
        url,
    )
    assert code == 0, out
    assert "4 MentorProfileUpdated and 2 MentorsMatched" in out
    return url


def test_rebuilt_matching_equals_live_and_verify_names_a_tampered_row(live, test_env):
    url = rebuild(live, test_env, "equal")
    code, out = run_research("verify", "matching", "--live-url", live["matching"], "--rebuilt-url", url)
    assert code == 0, out
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE NOT accepting_cases) FROM mentors")
        assert cur.fetchone() == (3, 1)
        cur.execute("SELECT round FROM proposals ORDER BY round")
        assert [r[0] for r in cur.fetchall()] == [1, 2]
        cur.execute("SELECT outcome, open, response_seconds >= 0 FROM assignments")
        assert cur.fetchall() == [("declined", False, True)]  # who was asked, and how fast they answered
        cur.execute("SELECT open_cases, responses FROM mentor_stats")
        assert cur.fetchall() == [(0, 1)]

    conn = psycopg2.connect(live["matching"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("UPDATE proposals SET rubrics = '{education-law}' WHERE round = 2 RETURNING case_id")
        case_id = cur.fetchone()[0]
    try:
        code, out = run_research("verify", "matching", "--live-url", live["matching"], "--rebuilt-url", url)
        assert code == 1
        assert f"proposals: case_id={case_id}, round=2: rubrics differs" in out
    finally:
        with conn.cursor() as cur:
            cur.execute("UPDATE proposals SET rubrics = %s WHERE round = 2", ([RUBRIC, "self-management"],))
        conn.close()
