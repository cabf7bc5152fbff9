"""A live journey on real cases, matching and library services, each on databases of its own (so
hand-made events of other modules' tests cannot be in its library): what the research rebuild and the
backup tests read; the backup test adds notifications, so all five services' databases hold the journey. A generator for a module-scoped fixture: ``yield from completed_journey(...)``."""

import uuid

import psycopg2

from contracts.topology import SUBSCRIPTIONS_BY_QUEUE
from services.cases.service import CasesService
from services.library.service import LibraryService
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.support import actor, case_form, eventually, mentor_snapshot

NOTIFICATIONS_QUEUES = tuple(q for q in SUBSCRIPTIONS_BY_QUEUE if q.startswith("notifications."))
EDITED_QUESTION = "How do I restore discipline in a 7th form (edited by the moderator)?"


def completed_journey(start_module_service, test_env, prefix, with_notifications=False):
    """A completed, consented case that was also published to the forum, reviewed by a moderator (the
    solved case's question edited) and published live. ``with_notifications``: a notifications service
    of the journey's own takes its events too (its inbox entries), e-mail rounds off (no identity
    service runs to give contacts)."""
    from tests.actors import signed_rpc
    from tests.integration.relay_helpers import publish_via_outbox

    names = ("cases", "matching", "library", "identity") + (("notifications",) if with_notifications else ())
    urls = {name: test_env.database_url(f"{prefix}_{name}") for name in names}
    # events other modules left unconsumed would enter this journey's library (and inbox), or wait before
    # its own in matching's and cases' queues (CI once saw its proposals later than 15 s): every queue of
    # the services it starts is emptied first
    started = ("matching", "cases", "library") + (("notifications",) if with_notifications else ())
    _purge_queues(test_env, tuple(q for q in SUBSCRIPTIONS_BY_QUEUE if q.split(".")[0] in started))
    if with_notifications:
        start_module_service(NotificationsService, DATABASE_URL=urls["notifications"], EMAIL_POLL_INTERVAL=3600)
    start_module_service(MatchingService, DATABASE_URL=urls["matching"])
    start_module_service(CasesService, DATABASE_URL=urls["cases"])
    start_module_service(LibraryService, DATABASE_URL=urls["library"])
    mentee, mentor_id = actor("mentee"), str(uuid.uuid4())
    mentor = {"user_id": mentor_id, "role": "mentor"}
    publish_via_outbox(
        test_env,
        "identity",
        "MentorProfileUpdated",
        mentor_id,
        mentor_snapshot(mentor_id, ["class-management-motivation"]),
        url=urls["identity"],  # identity's log of this journey alone: a rebuild of matching reads it
    )
    with signed_rpc(test_env.amqp_uri, timeout=15) as rpc:
        eventually(lambda: _call(lambda: rpc.matching.get_mentor(mentor_id)), message="matching knows mentor")
        case_id = rpc.cases.create_case(
            mentee,
            case_form(
                group_discussion_consent=True,
                essence="Ivan Petrov from my 7th form disrupts lessons; his mother is at ivan@example.org.",
            ),
        )["id"]
        eventually(
            lambda: any(
                p["mentor_id"] == mentor_id for p in rpc.cases.get_case(mentee, case_id).get("proposed_mentors") or ()
            ),
            message="proposals recorded",
            explain=lambda: _depths(test_env, ("matching.case-events", "cases.matching-events")),
        )
        rpc.cases.choose_mentor(mentee, case_id, {"mentor_id": mentor_id})
        rpc.cases.accept_case(mentor, case_id)
        rpc.cases.publish_to_forum(mentee, case_id, {"title": "Disruptions in the 7th form"})
        solved = rpc.cases.propose_solution(
            mentor,
            case_id,
            {
                "text": "Agree three class rules together.",
                "materials": [{"title": "Classroom basics", "reference": "https://example.org/cm"}],
            },
        )
        rpc.cases.complete_case(
            mentee, case_id, {"problem_solved": "yes", "helpfulness": {solved["solutions"][0]["id"]: 5}}
        )
        # nothing is published before review: the moderator edits the solved case, publishes both
        drafts = eventually(
            lambda: len(rpc.library.my_drafts(mentee)["items"]) == 2 and rpc.library.my_drafts(mentee)["items"],
            message="two drafts wait for review",
        )
        moderator = actor("moderator")
        for draft in drafts:
            if draft["kind"] == "solved_case":
                rpc.library.edit_draft(moderator, draft["id"], {"texts": {"question": EDITED_QUESTION}})
            rpc.library.publish_draft(moderator, draft["id"])
    live = psycopg2.connect(urls["library"])
    live.autocommit = True

    def projected():
        with live.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM library_entries), (SELECT count(*) FROM forum_posts)")
            return cur.fetchone() == (1, 1)

    eventually(projected, message="library entry and forum post projected live")
    yield {**urls, "live": live, "test_env": test_env, "mentee": mentee, "mentor": mentor}
    live.close()


def _purge_queues(test_env, queues):
    from tests.integration.event_helpers import open_broker

    conn, _ = open_broker(test_env.amqp_uri)  # declares the topology: the queues exist
    try:
        for queue in queues:
            conn.default_channel.queue_purge(queue)
    finally:
        conn.release()


def _depths(test_env, queues):
    """How many messages wait in each queue (why a step of the journey is late)."""
    from tests.integration.event_helpers import open_broker

    conn, _ = open_broker(test_env.amqp_uri)
    try:
        return {q: conn.default_channel.queue_declare(q, passive=True).message_count for q in queues}
    finally:
        conn.release()


def _call(fn):
    try:
        return fn()
    except Exception:
        return None
