"""matching on the real broker: who may be proposed (accredited, free capacity, not away), the load
and response history it keeps from the case events, escalation rounds, colleague suggestions, and
duplicate or reordered deliveries.

matching runs alone here, on a database of its own (so no other module's mentors compete), with
its relay off (its MentorsMatched stay in its outbox: no cases service runs to take them), one
message at a time (max_workers=1: see event_helpers), fed hand-made events as cases and identity
would publish them.
"""

import json
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg2
import pytest

from contracts.envelope import Envelope
from contracts.errors import InvalidInput
from contracts.events import dump_payload
from services.matching.ranking import score
from services.matching.service import MatchingService
from tests.integration.event_helpers import open_broker, purge
from tests.support import eventually, mentor_snapshot

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
HOUR = 3600


@pytest.fixture(scope="module")
def world(start_module_service, test_env):
    url = test_env.database_url("matching_availability")
    purge(test_env.amqp_uri, "matching.case-events", "matching.identity-events")
    start_module_service(MatchingService, DATABASE_URL=url, RELAY_ENABLED="false", MATCHING_K=3, max_workers=1)
    conn, broker = open_broker(test_env.amqp_uri)
    db = psycopg2.connect(url)
    db.autocommit = True
    yield World(broker, db)
    db.close()
    conn.release()


class World:
    """Publishes events and reads matching's database; positions grow like a real log's."""

    def __init__(self, broker, db):
        self.broker = broker
        self.db = db
        self.position = 0

    def next_position(self):
        self.position += 1
        return self.position

    def publish(self, event_type, payload, source="cases", position=None, at=None, version=None, times=1):
        version, data = dump_payload(event_type, payload, version)
        body = Envelope(
            type=event_type,
            source=source,
            aggregate_id=payload.get("case_id", payload.get("mentor_id")),
            payload=data,
            schema_version=version,
            position=position or self.next_position(),
            occurred_at=at or datetime.now(timezone.utc),
        ).to_message()
        self.broker.publish(body, times=times)
        return body

    def mentor(self, rubrics, prefix="", version=None, **overrides):
        mentor_id = f"{prefix}{uuid.uuid4()}"
        payload = mentor_snapshot(mentor_id, rubrics, **overrides)
        if version == 1:
            payload = {k: payload[k] for k in ("mentor_id", "rubrics", "accepting_cases")}
        self.publish("MentorProfileUpdated", payload, source="identity", version=version)
        return mentor_id

    def settle(self):
        """Sentinels behind everything published so far, on both of matching's queues."""
        sentinels = [
            self.publish(
                "CaseRedefined",
                {
                    "case_id": str(uuid.uuid4()),
                    "case_number": "MC-2026-000900",
                    "mentor_id": "nobody",
                    "revision": 2,
                    "rubrics": ["education-law"],
                },
            ),
            self.publish(
                "MentorProfileUpdated",
                mentor_snapshot(f"zz-sentinel-{uuid.uuid4()}", ["education-law"], accredited=False),
                source="identity",
            ),
        ]
        eventually(lambda: all(self.processed(s) for s in sentinels), message="sentinels processed")

    def processed(self, body):
        return self.scalar("SELECT count(*) FROM processed_events WHERE event_id = %s", body["event_id"])

    def scalar(self, query, *args):
        with self.db.cursor() as cur:
            cur.execute(query, args)
            row = cur.fetchone()
            return row[0] if row else None

    def rows(self, query, *args):
        with self.db.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def proposals(self, case_id, round_=1):
        return self.scalar("SELECT proposals FROM proposals WHERE case_id = %s AND round = %s", case_id, round_)

    def load(self, mentor_id):
        return self.scalar("SELECT open_cases FROM mentor_stats WHERE mentor_id = %s", mentor_id) or 0

    # ---- case events as the cases service publishes them -----------------------------------

    def case_created(self, rubrics, urgency="need_advice"):
        case_id = str(uuid.uuid4())
        self.publish(
            "CaseCreated",
            {
                "case_id": case_id,
                "case_number": "MC-2026-000001",
                "rubrics": rubrics,
                "urgency": urgency,
                "mode": "personal",
                "participants": [],
            },
        )
        return case_id

    def decided(self, case_id, round_=1):
        """The proposals of a round once matching decided it (possibly none)."""
        eventually(lambda: self.proposals(case_id, round_) is not None, message=f"round {round_} decided")
        return self.proposals(case_id, round_)

    def proposed(self, rubrics):
        """A new case, once everything published before is applied, and its round-1 proposals."""
        self.settle()
        case_id = self.case_created(rubrics)
        return case_id, self.decided(case_id)

    def chosen(self, case_id, mentor_id, round_=1, **kw):
        return self.publish(
            "MentorChosen",
            {"case_id": case_id, "case_number": "MC-2026-000001", "round": round_, "mentor_id": mentor_id},
            **kw,
        )

    def accepted(self, case_id, mentor_id, **kw):
        return self.publish(
            "MentorAccepted",
            {"case_id": case_id, "case_number": "MC-2026-000001", "mentor_id": mentor_id, "author_id": "author-1"},
            **kw,
        )

    def next_round(self, event_type, case_id, rubrics, excluded, round_=2, at=None, times=1, **extra):
        return self.publish(
            event_type,
            {
                "case_id": case_id,
                "case_number": "MC-2026-000001",
                "author_id": "author-1",
                "next_round": round_,
                "rubrics": rubrics,
                "excluded_mentor_ids": excluded,
                **extra,
            },
            at=at,
            times=times,
        )

    def closed(self, event_type, case_id, rubrics=("education-law",), **kw):
        ref = {"case_id": case_id, "case_number": "MC-2026-000001"}
        if event_type == "CaseWithdrawn":
            payload = {**ref, "mentor_id": None}
        else:
            payload = {
                **ref,
                "rubrics": list(rubrics),
                "problem_solved": "yes",
                "publication_consent": False,
                "publication": None,
                "author_id": "a-mentee",
            }
        return self.publish(event_type, payload, **kw)


def ids(proposals):
    return [p["mentor_id"] for p in proposals]


# ---- who may be proposed ------------------------------------------------------------------


def test_an_unaccredited_mentor_is_never_proposed_until_accredited(world, rpc):
    rubric = ["teaching-methods"]
    on_roll = world.mentor(rubric, prefix="b-")
    off_roll = world.mentor(rubric, prefix="a-", accredited=False)
    legacy = world.mentor(rubric, prefix="a-", version=1)  # a v1 snapshot: read as not accredited
    world.settle()
    assert world.scalar("SELECT count(*) FROM mentors WHERE mentor_id IN (%s, %s, %s)", on_roll, off_roll, legacy) == 3
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [on_roll]

    upcast = rpc.matching.get_mentor(legacy)
    assert (upcast["accredited"], upcast["capacity"], upcast["away_periods"], upcast["load"]) == (False, 3, [], 0)

    world.publish("MentorProfileUpdated", mentor_snapshot(off_roll, rubric), source="identity")  # approved
    world.settle()
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [off_roll, on_roll]


def test_an_older_profile_snapshot_never_overwrites_a_newer_one(world, rpc):
    mentor_id = world.mentor(["personal-resources"], capacity=5)
    world.settle()
    newest = world.scalar("SELECT source_position FROM mentors WHERE mentor_id = %s", mentor_id)
    world.publish(
        "MentorProfileUpdated",
        mentor_snapshot(mentor_id, ["personal-resources"], accredited=False, capacity=1),
        source="identity",
        position=newest - 1,
    )
    world.settle()
    view = rpc.matching.get_mentor(mentor_id)
    assert (view["accredited"], view["capacity"]) == (True, 5)


def test_a_mentor_at_capacity_is_not_proposed_until_a_case_of_theirs_closes(world):
    rubric = ["monitoring-evaluation"]
    full = world.mentor(rubric, prefix="a-", capacity=1)
    roomy = world.mentor(rubric, prefix="b-", capacity=2)
    earlier, _ = world.proposed(rubric)
    world.chosen(earlier, full)
    world.settle()
    assert world.load(full) == 1

    _, proposals = world.proposed(rubric)
    assert proposals == [
        {
            "mentor_id": roomy,
            "matched_rubrics": rubric,
            "score": score(1.0, 0, 2),
            "load": 0,
            "capacity": 2,
            "recent_assignments": 0,
            "reasons": ["new_to_roll"],
        }
    ]  # the reasons travel with the proposal

    world.closed("CaseCompleted", earlier, rubric)
    world.settle()
    assert world.load(full) == 0
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [roomy, full]  # the same score: the tie goes to who was not chosen lately
    assert [p["recent_assignments"] for p in proposals] == [0, 1]


def test_a_capacity_of_zero_means_never_proposed(world):
    rubric = ["families-at-risk"]
    world.mentor(rubric, capacity=0)
    world.settle()
    _, proposals = world.proposed(rubric)
    assert proposals == []


def test_a_mentor_away_today_is_not_proposed_but_is_after_the_period(world):
    rubric = ["individualization"]
    today = datetime.now(timezone.utc).date()
    days = lambda n: today + timedelta(days=n)  # noqa: E731
    away = world.mentor(rubric, prefix="a-", away_periods=[{"starts_on": days(-2), "ends_on": days(2)}])
    was_away = world.mentor(
        rubric,
        prefix="b-",
        away_periods=[{"starts_on": date(2020, 1, 1), "ends_on": days(-3)}, {"starts_on": days(3), "ends_on": days(9)}],
    )
    world.settle()
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [was_away]

    world.publish("MentorProfileUpdated", mentor_snapshot(away, rubric), source="identity")  # back early
    world.settle()
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [away, was_away]


# ---- load, response history, rounds ---------------------------------------------------------


def test_a_decline_ends_the_load_records_the_response_time_and_opens_a_round_without_the_decliner(world):
    rubric = ["interaction-with-parents", "urban-educational-projects"]
    a, b = world.mentor(rubric, prefix="a-"), world.mentor(rubric, prefix="b-")
    case_id, proposals = world.proposed(rubric)
    assert ids(proposals) == [a, b]
    world.chosen(case_id, a, at=START)
    world.settle()
    assert world.load(a) == 1
    world.next_round("MentorDeclined", case_id, rubric, [a], mentor_id=a, at=START + timedelta(hours=3), times=2)
    world.settle()
    assert ids(world.decided(case_id, 2)) == [b]
    assert world.load(a) == 0
    assert world.rows("SELECT outcome, open, response_seconds FROM assignments WHERE case_id = %s", case_id) == [
        ("declined", False, 3.0 * HOUR)
    ]
    assert world.scalar("SELECT count(*) FROM outbox WHERE envelope->'payload'->>'case_id' = %s", case_id) == 2


def test_an_escalation_opens_a_round_without_the_silent_mentor_who_stays_eligible_elsewhere(world):
    rubric = ["professional-ethics", "digital-technologies"]
    silent, other, never_chosen = (world.mentor(rubric, prefix=p) for p in ("a-", "b-", "c-"))
    case_id, proposals = world.proposed(rubric)
    assert ids(proposals) == [silent, other, never_chosen]
    world.chosen(case_id, silent, at=START)
    world.next_round(
        "CaseEscalated", case_id, rubric, [silent], mentor_id=silent, urgency="urgent", at=START + timedelta(hours=2)
    )
    assert ids(world.decided(case_id, 2)) == [other, never_chosen]  # proposed before but never chosen: still asked
    assert world.rows("SELECT outcome, open, response_seconds FROM assignments WHERE case_id = %s", case_id) == [
        ("escalated", False, 2 * HOUR)
    ]
    assert world.load(silent) == 0
    _, elsewhere = world.proposed(rubric)
    assert silent in ids(elsewhere)


def test_response_history_puts_the_faster_mentor_first(world):
    rubric = ["education-law", "self-management"]
    slow, fast = world.mentor(rubric, prefix="a-"), world.mentor(rubric, prefix="b-")
    newcomer = world.mentor(rubric, prefix="c-")
    for mentor_id, hours in ((slow, 72), (fast, 1)):
        case_id = world.case_created(rubric)
        world.chosen(case_id, mentor_id, at=START)
        world.accepted(case_id, mentor_id, at=START + timedelta(hours=hours))
        world.closed("CaseWithdrawn", case_id)
    world.settle()
    assert world.rows(
        "SELECT mentor_id, open_cases, responses, median_response_seconds FROM mentor_stats "
        "WHERE mentor_id IN (%s, %s) ORDER BY mentor_id",
        slow,
        fast,
    ) == [(slow, 0, 1, 72.0 * HOUR), (fast, 0, 1, 1.0 * HOUR)]
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [fast, newcomer, slow]
    assert [p["score"] for p in proposals] == [score(1.0, 0, 3, HOUR), score(1.0, 0, 3), score(1.0, 0, 3, 72 * HOUR)]


def test_duplicate_and_reordered_case_events_change_nothing(world):
    rubric = ["class-management-motivation"]
    mentor_id = world.mentor(rubric)
    case_id = world.case_created(rubric)
    chosen_at, position = START, world.next_position()
    # the acceptance arrives before the choice, and everything twice
    world.accepted(case_id, mentor_id, at=START + timedelta(minutes=30), position=position + 1, times=2)
    world.chosen(case_id, mentor_id, at=chosen_at, position=position, times=2)
    world.position += 1
    world.settle()
    state = world.rows(
        "SELECT outcome, open, response_seconds, chosen_position, outcome_position FROM assignments WHERE case_id = %s",
        case_id,
    )
    assert state == [("accepted", True, 1800.0, position, position + 1)]
    assert world.rows("SELECT open_cases, responses FROM mentor_stats WHERE mentor_id = %s", mentor_id) == [(1, 1)]

    world.closed("CaseCompleted", case_id, rubric, times=2)
    world.settle()
    assert world.load(mentor_id) == 0
    assert world.scalar("SELECT count(*) FROM proposals WHERE case_id = %s", case_id) == 1  # round 1 only


def test_a_choice_arriving_after_the_case_closed_does_not_count_as_load(world):
    rubric = ["class-management-motivation", "personal-resources"]
    mentor_id = world.mentor(rubric)
    case_id = world.case_created(rubric)
    chosen = world.next_position()
    world.closed("CaseWithdrawn", case_id, position=chosen + 5)
    world.chosen(case_id, mentor_id, position=chosen)
    world.settle()
    assert world.rows("SELECT open FROM assignments WHERE case_id = %s", case_id) == [(False,)]
    assert world.load(mentor_id) == 0


def test_a_redefinition_updates_the_cases_rubrics_unless_older(world):
    case_id = world.case_created(["education-law"])
    ref = {"case_id": case_id, "case_number": "MC-2026-000001", "mentor_id": "m-1"}
    newer = world.next_position() + 10
    world.publish("CaseRedefined", {**ref, "revision": 3, "rubrics": ["self-management"]}, position=newer)
    world.publish("CaseRedefined", {**ref, "revision": 2, "rubrics": ["teaching-methods"]}, position=newer - 1)
    world.settle()
    assert world.scalar("SELECT rubrics FROM cases WHERE case_id = %s", case_id) == ["self-management"]


# ---- the fair order -------------------------------------------------------------------------


def test_after_assignments_the_next_tie_goes_to_the_less_loaded_mentor(world):
    """Equally suited mentors (both rubrics, same capacity): once cases were given and completed
    (no open load left to tell them apart), the next tie goes to whoever was chosen least lately,
    though that one's id sorts last and the busiest answered fastest; a mentor new to the roll
    comes before one only proposed before."""
    rubric = ["interaction-with-parents", "digital-technologies"]  # no other mentor here has both
    busy, calm, idle = (world.mentor(rubric, prefix=prefix) for prefix in ("a-", "b-", "c-"))
    _, first = world.proposed(rubric)
    assert ids(first) == [busy, calm, idle]  # nothing tells them apart yet: the id decides
    for mentor_id in (busy, busy, calm):
        case_id = world.case_created(rubric)
        world.chosen(case_id, mentor_id)
        world.accepted(case_id, mentor_id)  # within a second: a fast answer
        world.closed("CaseCompleted", case_id, rubric)
    world.settle()
    assert world.load(busy) == world.load(calm) == 0

    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [idle, calm, busy]
    assert [p["recent_assignments"] for p in proposals] == [0, 1, 2]
    assert [p["reasons"] for p in proposals] == [["fewer_recent_cases", "new_to_roll"], ["fewer_recent_cases"], []]
    assert proposals[2]["score"] > proposals[0]["score"]  # the fastest, within the margin: a tie all the same

    fresh = world.mentor(rubric, prefix="d-")
    _, proposals = world.proposed(rubric)
    assert ids(proposals) == [fresh, idle, calm]  # never proposed before idle; busy waits
    assert proposals[0]["reasons"] == ["less_recently_proposed", "new_to_roll"]


# ---- colleague suggestions ----------------------------------------------------------------------


def test_colleague_suggestions_rank_accredited_mentors_of_the_rubrics_without_the_cases_mentor(world, rpc):
    rubric = ["urban-educational-projects", "families-at-risk"]
    case_mentor = world.mentor(rubric, prefix="a-")
    busy = world.mentor(rubric, prefix="b-", capacity=1, accepting_cases=False)
    partial = world.mentor(rubric[:1], prefix="c-")
    unaccredited = world.mentor(rubric, prefix="d-", accredited=False)
    asked = world.mentor(rubric, prefix="e-")
    case_id = world.case_created(rubric)
    world.chosen(case_id, case_mentor)
    other_case = world.case_created(rubric)
    world.chosen(other_case, busy)  # busy is now full: still fine for an opinion
    world.settle()

    found = rpc.matching.suggest_colleagues(case_id, rubric, [asked], 10)
    ours = [s for s in found if s["mentor_id"] in (case_mentor, busy, partial, unaccredited, asked)]
    assert ids(ours) == [busy, partial]
    assert ours[0] == {
        "mentor_id": busy,
        "matched_rubrics": sorted(rubric),
        "score": score(1.0, 1, 1),
        "load": 1,
        "capacity": 1,
        "recent_assignments": 1,
        "reasons": ["new_to_roll"],
    }
    assert len(rpc.matching.suggest_colleagues(case_id, rubric, [], 1)) == 1

    with pytest.raises(InvalidInput) as refused:
        rpc.matching.suggest_colleagues(case_id, ["astrology"], [], 0)
    assert set(refused.value.fields) == {"rubrics", "limit"}


# ---- the SQL cut ----------------------------------------------------------------------------


def test_the_sql_cut_never_changes_a_ranking(test_env):
    """readmodel.candidates(k=...) returns only who could make the top k; ranking.rank over them must
    equal ranking.rank over every eligible mentor: many ties (newcomers, equal loads), all kinds of
    histories and capacities, recent assignments and past proposals (the fair order), on PostgreSQL."""
    import random

    from contracts.rubrics import RUBRIC_SLUGS
    from services.common import migrations
    from services.common.db import PostgresStore
    from services.matching import readmodel
    from services.matching.ranking import rank

    url = test_env.database_url("matching_cut")
    migrations.apply(url, migrations.history_directory("matching"))
    store = PostgresStore(url, 1)
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    today, since = now.date(), now - timedelta(days=90)
    try:
        with store.transaction() as cur:
            for position in range(1, 401):
                mentor_id = f"m-{position:04d}"
                capacity = rng.choice((0, 1, 2, 3, 3, 3, 5))
                readmodel.upsert_mentor(
                    cur,
                    mentor_snapshot(
                        mentor_id,
                        rng.sample(RUBRIC_SLUGS[:5], rng.randint(1, 3)),
                        capacity=capacity,
                        accredited=rng.random() < 0.9,
                        accepting_cases=rng.random() < 0.9,
                        away_periods=[{"starts_on": today, "ends_on": today}] if rng.random() < 0.1 else [],
                    ),
                    position,
                )
                median = rng.choice((None, None, 3600.0, 86400.0, rng.uniform(60, 400000)))
                cur.execute(
                    "INSERT INTO mentor_stats (mentor_id, open_cases, responses, median_response_seconds) "
                    "VALUES (%s, %s, %s, %s)",
                    (mentor_id, rng.randint(0, capacity), rng.randint(1, 9), median),
                )
                # the fair order's history: cases chosen for (some long ago), rounds proposed in
                for n in range(rng.choice((0, 0, 1, 2, 4))):
                    cur.execute(
                        "INSERT INTO assignments (case_id, mentor_id, round, chosen_at, chosen_position) "
                        "VALUES (%s, %s, 1, %s, %s)",
                        (f"c-{position}-{n}", mentor_id, now - timedelta(days=rng.randint(0, 200)), n + 1),
                    )
                if rng.random() < 0.6:
                    cur.execute(
                        "INSERT INTO proposals (case_id, round, rubrics, proposals, created_at) "
                        "VALUES (%s, 1, '{}', %s, %s)",
                        (
                            f"p-{position}",
                            json.dumps([{"mentor_id": mentor_id}]),
                            now - timedelta(hours=rng.randint(0, 50)),
                        ),
                    )
        smaller = fair = 0
        with store.transaction() as cur:
            for _ in range(150):
                rubrics = rng.sample(RUBRIC_SLUGS[:6], rng.randint(1, 3))
                k = rng.choice((1, 3, 5))
                exclude = {f"m-{rng.randint(1, 400):04d}" for _ in range(3)}
                relaxed = rng.random() < 0.3  # colleague suggestions
                options = dict(
                    exclude=exclude, today=today, require_free_capacity=not relaxed, require_accepting=not relaxed
                )
                cut = readmodel.candidates(cur, rubrics, k=k, recent_since=since, **options)
                everyone = readmodel.candidates(cur, rubrics, recent_since=since, **options)
                ranked = rank(rubrics, cut, k=k, **options)
                assert ranked == rank(rubrics, everyone, k=k, **options), rubrics
                smaller += len(cut) < len(everyone)
                fair += ranked != rank(rubrics, everyone, k=k, tie_margin=0, **options)
        assert smaller > 100  # the cut does cut
        assert fair > 50  # and the fair order is at work in these rankings
    finally:
        store.close()
