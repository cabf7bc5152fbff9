"""The report's fast replay (research/replay.py) folds a real log to the same statistics as the
generic path (select_notifications pages, every event through the app's mapper)."""

import datetime
import random
import uuid

import pytest

from research import replay
from research.analytics import Statistics
from research.cli import iter_events, open_store
from services.cases.application import CasesApplication, open_application
from services.cases.domain import Case
from services.common.clock import utc_now
from services.common.db import ensure_database
from tests.support import case_form

RUBRICS = ["class-management-motivation", "interaction-with-parents", "digital-technologies", "teaching-methods"]


def _proposals(mentors):
    return [{"mentor_id": m, "matched_rubrics": [], "score": 1.0} for m in mentors]


def journey(rng, number):
    """One case through a random journey touching every kind of event the domain has."""
    author = str(uuid.uuid4())
    mentors = [str(uuid.uuid4()) for _ in range(8)]
    form = case_form(
        rubrics=rng.sample(RUBRICS, rng.choice((1, 2))),
        urgency=rng.choice(("urgent", "need_advice")),
        mode=rng.choice(("personal", "anonymous")),
        group_discussion_consent=rng.random() < 0.5,
    )
    case = Case.file(uuid.uuid4(), f"MC-RP-{number:04d}", author, form)
    if rng.random() < 0.1:
        case.withdraw(author, "no longer needed")
        return case
    round_ = 0
    if rng.random() < 0.1:  # nobody fits: flagged for the moderators, then a later round
        round_ += 1
        case.record_proposals(round_, [], now=utc_now())

    def engage():
        nonlocal round_
        while True:
            round_ += 1
            free = [m for m in mentors if m not in set(case._excluded_from_next_round())]
            case.record_proposals(round_, _proposals(free[:3]), now=utc_now())
            mentor = case.proposals[0]["mentor_id"]
            case.choose_mentor(author, mentor, now=utc_now())
            if case.form["urgency"] == "urgent" and rng.random() < 0.2:
                case.escalate(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1), 60)
                continue
            if rng.random() < 0.25:
                case.decline(mentor, "busy")
                continue
            case.accept(mentor, now=utc_now())
            return mentor

    mentor = engage()
    if rng.random() < 0.2:
        case.withdraw(author, "solved it myself")
        return case
    for _ in range(rng.choice((0, 1, 2))):
        qids = case.ask_questions(
            mentor, [{"bank_id": None, "text": "Which form?", "kind": "clarifying"}], now=utc_now()
        )
        case.answer_questions(author, [{"question_id": q, "text": "7B."} for q in qids], now=utc_now())
        if case.revision < 3 and rng.random() < 0.4:
            case.redefine(
                author, {**case.form, "essence": "More precisely.", "rubrics": rng.sample(RUBRICS, 1)}, now=utc_now()
            )
        else:
            case.keep_request(author, now=utc_now())
    if case.form["group_discussion_consent"] and rng.random() < 0.5:
        colleague = str(uuid.uuid4())
        case.share_with_colleagues(mentor, [colleague])
        case.add_opinion(colleague, "Try roles.", now=utc_now())
    if case.form["mode"] == "personal" and rng.random() < 0.5:
        case.send_message(author, "Thank you.", now=utc_now())
    solutions = {case.propose_solution(mentor, "Try group work.", [], now=utc_now()): rng.randint(1, 5)}
    if rng.random() < 0.3:
        case.request_second_opinion(author)
        mentor = engage()
        solutions[case.propose_solution(mentor, "Another way.", [], now=utc_now())] = rng.randint(1, 5)
    if rng.random() < 0.8:
        case.complete(
            author,
            {
                "problem_solved": rng.choice(("yes", "partly", "no")),
                "helpfulness": solutions,
                "actions": "",
                "learned": "",
                "comment": "",
            },
        )
        if case.form["group_discussion_consent"] and rng.random() < 0.5:
            case.publish_to_forum(author, title="A case")
    return case


def figures(stats):
    """Everything the report shows, and each case's numbers under the same key in the same order."""
    return (
        stats.events,
        stats.unknown_case_events,
        list(stats.cases),
        [tuple(getattr(case, a) for a in case.__slots__) for case in stats.cases.values()],
        stats.groups(),
        stats.by_month(),
        stats.acceptance_hours("urgency"),
        stats.acceptance_hours("rubric"),
    )


@pytest.fixture(scope="module")
def store(test_env):
    url = test_env.database_url("replay")
    ensure_database(url)
    app = open_application(url, pool_size=2)
    rng = random.Random(10)
    cases = [journey(rng, i) for i in range(150)]
    for start in range(0, len(cases), 20):
        app.save(*cases[start : start + 20])
    app.close()
    reader = open_store(url)
    yield reader
    reader.close()


def test_the_fast_path_folds_like_the_generic_mapper_path(store):
    generic = Statistics().add_all(iter_events(store))
    fast = replay.fold_statistics(store, itersize=100)  # several round trips of the cursor
    kinds = {type(e).__name__ for e in iter_events(store)}
    assert {
        "Created",
        "Flagged",
        "Escalated",
        "MentorDeclined",
        "CaseRedefined",
        "ColleagueOpinionAdded",
        "MessageSent",
        "SecondOpinionRequested",
        "Completed",
        "PublishedToForum",
        "Withdrawn",
    } <= kinds
    assert generic.events > 1000 and len(generic.cases) >= 150
    assert all(isinstance(case_id, uuid.UUID) for case_id in fast.cases)
    assert figures(fast) == figures(generic)


def test_a_state_the_server_did_not_send_is_fetched_by_its_key(store, monkeypatch):
    """A topic not on the list (an alias, a renamed class) still reaches the fold decoded."""
    monkeypatch.setattr(replay, "_state_topics", lambda app: [])
    assert figures(replay.fold_statistics(store)) == figures(Statistics().add_all(iter_events(store)))


def test_the_replay_stops_at_the_last_event_when_it_began(store, monkeypatch):
    seen = []
    real = Statistics.add_kind

    def add_kind(self, kind, case_id, event):
        if not seen:  # an event committed after the replay began is not folded
            writer = CasesApplication(env={**store.env, "CREATE_TABLE": "n"})
            writer.save(Case.file(uuid.uuid4(), "MC-RP-LATE", str(uuid.uuid4()), case_form()))
            writer.close()
        seen.append(kind)
        return real(self, kind, case_id, event)

    before = store.recorder.max_notification_id()
    monkeypatch.setattr(Statistics, "add_kind", add_kind)
    stats = replay.fold_statistics(store)
    assert stats.events == before == len(seen)
    assert store.recorder.max_notification_id() == before + 1


def test_another_store_takes_the_generic_path():
    app = CasesApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    rng = random.Random(3)
    app.save(*(journey(rng, i) for i in range(10)))
    assert figures(replay.fold_statistics(app)) == figures(Statistics().add_all(iter_events(app)))
