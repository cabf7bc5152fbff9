"""The moderators' statistics through real RPC on RabbitMQ and PostgreSQL: cases by rubric (seed
Figure 2), state, urgency and year, the time to a mentor's first answer (median and p90, exact
against the cases' own histories), registrations per year (seed Table 1), and who is refused.

cases and identity run on databases of their own here, so no other module's cases or users count.
"""

import statistics as py_statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest

from contracts.errors import Forbidden, InvalidInput
from contracts.rubrics import RUBRIC_SLUGS
from services.cases.service import CasesService
from services.common import migrations
from services.identity.admin import create_moderator, open_store
from services.identity.service import IdentityService
from tests.accounts import register_over_rpc
from tests.actors import signed_rpc
from tests.integration.event_helpers import envelope, open_broker, purge
from tests.support import actor, case_form, eventually

PASSWORD = "correct horse battery"
MODERATOR = actor("moderator")


@pytest.fixture(scope="module")
def world(start_module_service, test_env):
    cases_url = test_env.database_url("cases_statistics")
    identity_url = test_env.database_url("identity_statistics")
    purge(test_env.amqp_uri, "cases.matching-events")
    start_module_service(CasesService, DATABASE_URL=cases_url)
    start_module_service(IdentityService, DATABASE_URL=identity_url)
    conn, broker = open_broker(test_env.amqp_uri)
    db = psycopg2.connect(cases_url)
    db.autocommit = True
    yield broker, db, identity_url
    db.close()
    conn.release()


def _propose(broker, rpc, mentee, case_id, round_, mentor_id):
    """Matching's answer for a round, as matching publishes it; wait until the case took it."""
    broker.publish(
        envelope(
            "MentorsMatched",
            case_id,
            {
                "case_id": case_id,
                "round": round_,
                "proposals": [{"mentor_id": mentor_id, "matched_rubrics": ["education-law"], "score": 1.0}],
            },
            source="matching",
        )
    )
    eventually(lambda: rpc.cases.get_case(mentee, case_id)["state"] == "choosing_mentor", message="proposals")


def _chosen(broker, rpc, mentee, mentor, round_=1, **form):
    case = rpc.cases.create_case(mentee, case_form(**form))
    _propose(broker, rpc, mentee, case["id"], round_, mentor["user_id"])
    rpc.cases.choose_mentor(mentee, case["id"], {"mentor_id": mentor["user_id"]})
    return case


def _first_response_seconds(rpc, case_id):
    """From the case's history: the first answer of a mentor, timed from that mentor's choice."""
    chosen = None
    for item in rpc.cases.get_history(MODERATOR, case_id):
        if item["type"] == "MentorChosen":
            chosen = datetime.fromisoformat(item["occurred_at"])
        elif item["type"] in ("MentorAccepted", "MentorDeclined"):
            return (datetime.fromisoformat(item["occurred_at"]) - chosen).total_seconds()
    return None


def _percentile_cont(values, q):
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _counts(items):
    return {item["key"]: item["count"] for item in items}


@pytest.fixture(scope="module")
def filed(world, test_env):
    """Five cases: two answered at once, one declined then accepted by another mentor, one waiting
    for its chosen mentor, one withdrawn before any mentor."""
    broker, _, _ = world
    mentee = actor("mentee")
    first, second = actor("mentor"), actor("mentor")
    with signed_rpc(test_env.amqp_uri, timeout=15) as rpc:
        accepted = _chosen(broker, rpc, mentee, first, rubrics=["education-law"], urgency="urgent")
        time.sleep(0.05)
        rpc.cases.accept_case(first, accepted["id"])

        declined = _chosen(broker, rpc, mentee, first, rubrics=["education-law", "self-management"])
        time.sleep(0.3)
        rpc.cases.decline_case(first, declined["id"], {"reason": "Away this week."})
        _propose(broker, rpc, mentee, declined["id"], 2, second["user_id"])
        rpc.cases.choose_mentor(mentee, declined["id"], {"mentor_id": second["user_id"]})
        rpc.cases.accept_case(second, declined["id"])  # a second answer: not the first response

        waiting = _chosen(
            broker, rpc, mentee, first, rubrics=["interaction-with-parents"], urgency="want_expert_opinion"
        )
        withdrawn = rpc.cases.create_case(mentee, case_form(rubrics=["interaction-with-parents"]))
        rpc.cases.withdraw_case(mentee, withdrawn["id"], {"reason": "Solved it myself."})

        later = _chosen(broker, rpc, mentee, second, rubrics=["class-management-motivation"])
        time.sleep(0.15)
        rpc.cases.accept_case(second, later["id"])
        seconds = [_first_response_seconds(rpc, c["id"]) for c in (accepted, declined, later)]
        assert _first_response_seconds(rpc, waiting["id"]) is None
    return seconds


def test_cases_by_rubric_state_urgency_year_and_first_response(world, filed, rpc):
    stats = rpc.cases.statistics(MODERATOR, {})
    assert stats["total"] == 5 and stats["filed_from"] is None and stats["filed_to"] is None
    assert [r["slug"] for r in stats["by_rubric"]] == list(RUBRIC_SLUGS)  # the rubricator, zeros included
    assert {r["slug"]: r["count"] for r in stats["by_rubric"] if r["count"]} == {
        "education-law": 2,
        "self-management": 1,
        "interaction-with-parents": 2,
        "class-management-motivation": 1,
    }
    assert stats["by_rubric"][0]["label"] == "Education law"
    assert {k: n for k, n in _counts(stats["by_state"]).items() if n} == {
        "in_progress": 3,
        "awaiting_acceptance": 1,
        "withdrawn": 1,
    }
    assert _counts(stats["by_urgency"]) == {"urgent": 1, "need_advice": 3, "want_expert_opinion": 1}
    assert stats["by_year"] == [{"year": datetime.now(timezone.utc).year, "count": 5}]

    response = stats["first_response"]
    assert response["cases"] == 3
    assert response["median_seconds"] == pytest.approx(py_statistics.median(filed), abs=1e-6)
    assert response["p90_seconds"] == pytest.approx(_percentile_cont(filed, 0.9), abs=1e-6)
    assert response["median_seconds"] < response["p90_seconds"]  # three distinct times


def test_the_period_filters_by_day_filed(world, filed, rpc):
    today = datetime.now(timezone.utc).date()
    same_day = rpc.cases.statistics(MODERATOR, {"from": today.isoformat(), "to": today.isoformat()})
    assert same_day["total"] == 5 and same_day["filed_from"] == today.isoformat()
    tomorrow = rpc.cases.statistics(MODERATOR, {"from": (today + timedelta(days=1)).isoformat()})
    assert tomorrow["total"] == 0 and tomorrow["by_year"] == []
    assert all(r["count"] == 0 for r in tomorrow["by_rubric"]) and len(tomorrow["by_rubric"]) == 12
    assert tomorrow["first_response"] == {"cases": 0, "median_seconds": None, "p90_seconds": None}
    assert rpc.cases.statistics(MODERATOR, {"to": (today - timedelta(days=1)).isoformat()})["total"] == 0
    with pytest.raises(InvalidInput) as caught:
        rpc.cases.statistics(MODERATOR, {"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()})
    assert set(caught.value.fields) == {"to"}


def test_the_response_times_are_rebuilt_from_the_log_for_an_index_made_before_them(world, filed, rpc):
    """An index from before the timing columns: the migration adds them and folds the log again."""
    _, db, _ = world
    before = rpc.cases.statistics(MODERATOR, {})
    db.autocommit = False  # one transaction: the catch-up timer never sees the table without the columns
    try:
        with db.cursor() as cur:
            cur.execute("ALTER TABLE case_index DROP COLUMN first_response_at, DROP COLUMN response_chosen_at")
            for statement in migrations.statements("cases"):  # its history again, by hand
                cur.execute(statement)
            cur.execute("SELECT position FROM relay_position WHERE relay = 'case-index'")
            assert cur.fetchone()[0] == 0
        db.commit()
    finally:
        db.autocommit = True
    assert rpc.cases.statistics(MODERATOR, {}) == before


def test_the_summaries_are_filled_from_the_log_for_an_index_made_before_them(world, filed, rpc):
    """An index from before the summary columns (issue #20): the migration adds them and folds the log
    again, so the list's summaries and the new figures cover the old cases too."""
    _, db, _ = world
    before = rpc.cases.statistics(MODERATOR, {})
    listed = rpc.cases.list_cases(MODERATOR, {"limit": 200})["items"]
    assert _counts(before["by_mode"]) == {"personal": 5, "anonymous": 0}
    assert _counts(before["open_by_turn"]) == {"author": 0, "mentor": 4, "system": 0, "moderator": 0}
    db.autocommit = False  # one transaction: the catch-up timer never sees the table without the columns
    try:
        with db.cursor() as cur:
            cur.execute(
                "ALTER TABLE case_index DROP COLUMN excerpt, DROP COLUMN mode, DROP COLUMN turn, "
                "DROP COLUMN turn_since, DROP COLUMN collective, DROP COLUMN public, "
                "DROP COLUMN second_opinion, DROP COLUMN declines, DROP COLUMN clarifying_questions, "
                "DROP COLUMN developing_questions"
            )
            for statement in migrations.statements("cases"):  # its history again, by hand
                cur.execute(statement)
            cur.execute("SELECT count(*) FROM case_index WHERE mode IS NULL")
            assert cur.fetchone()[0] == 5
        db.commit()
    finally:
        db.autocommit = True
    after = rpc.cases.statistics(MODERATOR, {})
    assert after == before and after["declines"] == {"count": 1, "cases": 1}
    relisted = rpc.cases.list_cases(MODERATOR, {"limit": 200})["items"]
    assert [{k: c[k] for k in ("id", "excerpt", "mode", "turn")} for c in relisted] == [
        {k: c[k] for k in ("id", "excerpt", "mode", "turn")} for c in listed
    ]
    assert all(c["excerpt"].startswith("Pupils of my 7th form") for c in relisted)


def test_a_case_filed_in_another_year(world, filed, rpc):
    _, db, _ = world
    with db.cursor() as cur:  # as if filed in 2021 (the index keeps the first created_at it saw)
        cur.execute(
            "UPDATE case_index SET created_at = '2021-06-01T10:00:00Z' WHERE case_id = "
            "(SELECT case_id FROM case_index WHERE state = 'withdrawn')"
        )
    stats = rpc.cases.statistics(MODERATOR, {})
    assert stats["by_year"] == [{"year": 2021, "count": 1}, {"year": datetime.now(timezone.utc).year, "count": 4}]
    in_2021 = rpc.cases.statistics(MODERATOR, {"from": "2021-01-01", "to": "2021-12-31"})
    assert in_2021["total"] == 1 and _counts(in_2021["by_state"])["withdrawn"] == 1
    assert in_2021["first_response"]["cases"] == 0
    assert rpc.cases.statistics(MODERATOR, {"from": "2021-06-02", "to": "2021-12-31"})["total"] == 0


@pytest.mark.parametrize("role", ["mentee", "mentor"])
def test_only_moderators_see_the_case_statistics(world, rpc, role):
    with pytest.raises(Forbidden):
        rpc.cases.statistics(actor(role), {})


# ---- registrations per year (identity) -----------------------------------------------------


def _register(rpc, role, identity_url):
    """A mentor verified through the SMTP catcher (to apply for the roll)."""
    return register_over_rpc(
        rpc,
        {
            "email": f"{role}.{uuid.uuid4().hex[:10]}@example.org",
            "password": PASSWORD,
            "role": role,
            "first_name": "Anna",
            "last_name": "Petrova",
            "patronymic": "",
        },
        verify=role == "mentor",
        database_url=identity_url,
    )


def test_registrations_per_year_by_role_with_accredited_mentors(world, rpc):
    _, _, identity_url = world
    store = open_store(identity_url)
    try:
        made = create_moderator(
            store,
            {
                "email": f"moderator.{uuid.uuid4().hex[:10]}@example.org",
                "password": PASSWORD,
                "first_name": "Maria",
                "last_name": "Moderova",
            },
        )
    finally:
        store.close()
    moderator = {"user_id": made["id"], "role": "moderator"}
    mentees = [_register(rpc, "mentee", identity_url) for _ in range(3)]
    mentors = [_register(rpc, "mentor", identity_url) for _ in range(2)]
    mentor = {"user_id": mentors[0]["id"], "role": "mentor"}
    rpc.identity.update_mentor_profile(mentor, {"rubrics": ["education-law"], "accepting_cases": True})
    applied = rpc.identity.apply_for_accreditation(
        mentor, {"experience": "Twelve years of teaching mathematics.", "motivation": "To help novice teachers."}
    )
    rpc.identity.approve_application(moderator, applied["application"]["id"])

    year = datetime.now(timezone.utc).year
    assert rpc.identity.registrations_per_year(moderator) == {
        "items": [{"year": year, "mentees": 3, "mentors": 2, "accredited_mentors": 1}]
    }  # the moderator is staff

    conn = psycopg2.connect(identity_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:  # as if registered in 2018 (seed Table 1 starts there)
            cur.execute("UPDATE users SET created_at = '2018-09-01T08:00:00Z' WHERE id = %s", (mentees[0]["id"],))
    finally:
        conn.close()
    items = rpc.identity.registrations_per_year(moderator)["items"]
    assert [i["year"] for i in items] == list(range(2018, year + 1))
    assert items[0] == {"year": 2018, "mentees": 1, "mentors": 0, "accredited_mentors": 0}
    assert all(i["mentees"] == i["mentors"] == 0 for i in items[1:-1])
    assert items[-1] == {"year": year, "mentees": 2, "mentors": 2, "accredited_mentors": 1}

    for refused in (
        {"user_id": mentees[1]["id"], "role": "mentee"},
        mentor,
        {"user_id": mentees[1]["id"], "role": "moderator"},  # a forged role
        {"user_id": str(uuid.uuid4()), "role": "moderator"},
    ):
        with pytest.raises(Forbidden):
            rpc.identity.registrations_per_year(refused)
