"""Small helpers of the fault tests: hand-made events per consumer and broker inspection."""

import subprocess
import uuid

from kombu import Connection

from contracts.topology import SUBSCRIPTIONS
from tests.integration.event_helpers import count, envelope, publish_all
from tests.support import eventually

# The test process's own connections (counting effects) carry this application_name (conftest sets
# PGAPPNAME), so that cutting a service's connections (test_database_cut.py) spares them.
OBSERVER = "fault-tests-observer"


def service_env(test_env):
    """A service process's environment: the session's, without the observer's connection name."""
    env = test_env.process_env()
    env.pop("PGAPPNAME", None)
    return env


def queue_depth(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        return conn.default_channel.queue_declare(queue, passive=True).message_count


def broker_snapshot(test_env):
    """What RabbitMQ holds for this session's vhost: each queue's ready and unacked messages and its
    consumers (with their connection), to tell a lost message from one held by a stray consumer."""
    vhost = test_env._vhost or "/"
    lines = []
    for args in (
        ["list_queues", "-p", vhost, "name", "messages_ready", "messages_unacknowledged", "consumers"],
        ["list_consumers", "-p", vhost, "queue_name", "channel_pid", "prefetch_count", "ack_required"],
        ["list_connections", "-p", vhost, "pid", "peer_port", "client_properties"],
    ):
        done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60)
        lines.append(f"$ rabbitmqctl {' '.join(args)}\n{done.stdout or done.stderr}")
    return "\n".join(lines)


def poison(db, event_id):
    """A bug that makes notifications' handler raise on this one event (its processed_events row fails
    to insert, so its whole transaction does), until ``cure``."""
    with db("notifications").cursor() as cur:
        cur.execute("""CREATE OR REPLACE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN RAISE EXCEPTION 'poisoned event %', NEW.event_id; END $$""")
        cur.execute("DROP TRIGGER IF EXISTS test_poison ON processed_events")
        cur.execute(
            f"CREATE TRIGGER test_poison BEFORE INSERT ON processed_events FOR EACH ROW "
            f"WHEN (NEW.event_id = '{uuid.UUID(event_id)}') EXECUTE FUNCTION test_poison()"
        )


def connection_killer(db, service, event_id):
    """A bug that makes the service's handler of this one event lose its database connection (its
    processed_events insert ends its own session), while the database stays fine for everything else:
    an event that looks like a database outage."""
    with db(service).cursor() as cur:
        cur.execute("""CREATE OR REPLACE FUNCTION test_connection_killer() RETURNS trigger LANGUAGE plpgsql AS $$
                       BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$""")
        cur.execute("DROP TRIGGER IF EXISTS test_connection_killer ON processed_events")
        cur.execute(
            f"CREATE TRIGGER test_connection_killer BEFORE INSERT ON processed_events FOR EACH ROW "
            f"WHEN (NEW.event_id = '{uuid.UUID(event_id)}') EXECUTE FUNCTION test_connection_killer()"
        )


def cure_connection_killer(db, service):
    with db(service).cursor() as cur:
        cur.execute("DROP TRIGGER IF EXISTS test_connection_killer ON processed_events")


def cure(db):
    with db("notifications").cursor() as cur:
        cur.execute("DROP TRIGGER IF EXISTS test_poison ON processed_events")


def publication(essence):
    return {
        "essence": essence,
        "actions_taken": "",
        "difficulty": "",
        "question": "What now?",
        "participants": [],
        "rubrics": ["education-law"],
        "urgency": "urgent",
        "solutions": [{"text": "Read the law.", "materials": []}],
    }


class Burst:
    """``n`` events one consumer turns into exactly one effect each, and how to count those effects.
    For cases (its MentorsMatched consumer) the cases must exist: pass their ids as ``case_ids``."""

    def __init__(self, consumer, n=None, case_ids=None):
        self.consumer = consumer
        self.tag = uuid.uuid4().hex[:12]
        self.mentor_id = str(uuid.uuid4())
        self.case_ids = list(case_ids) if case_ids is not None else [str(uuid.uuid4()) for _ in range(n)]
        self.events = [self._event(i, case_id) for i, case_id in enumerate(self.case_ids)]

    def _event(self, i, case_id):
        number = f"MC-0000-{i:06d}"
        if self.consumer == "cases":  # round 1 of a case awaiting proposals: one MentorsProposed each
            return envelope(
                "MentorsMatched",
                case_id,
                {
                    "case_id": case_id,
                    "round": 1,
                    "proposals": [{"mentor_id": self.mentor_id, "matched_rubrics": ["education-law"], "score": 1.0}],
                },
                source="matching",
            )
        if self.consumer == "matching":
            return envelope(
                "CaseCreated",
                case_id,
                {
                    "case_id": case_id,
                    "case_number": number,
                    "rubrics": ["education-law"],
                    "urgency": "urgent",
                    "mode": "personal",
                    "participants": [],
                },
            )
        if self.consumer == "notifications":
            return envelope(
                "MentorChosen",
                case_id,
                {"case_id": case_id, "case_number": number, "round": 1, "mentor_id": self.mentor_id},
            )
        return envelope(
            "CaseCompleted",
            case_id,
            {
                "case_id": case_id,
                "case_number": number,
                "rubrics": ["education-law"],
                "problem_solved": "yes",
                "publication_consent": True,
                "author_id": case_id,
                "publication": publication(f"Essence {self.tag} {i}"),
            },
        )

    def publish(self, amqp_uri, events=None):
        """Publish the whole burst (or ``events`` of it) at once, as its source would; returns the burst."""
        publish_all(amqp_uri, self.events if events is None else events)
        return self

    def queues(self):
        """The consumer's queues (not only this burst's)."""
        return [s.queue for s in SUBSCRIPTIONS if s.queue.startswith(f"{self.consumer}.")]

    def wait_all_processed(self, db, test_env, timeout):
        """Until every event of the burst is recorded processed; a timeout says how far it got and
        what the broker still holds (queued, parked, consumers)."""
        queues = self.queues()
        eventually(
            lambda: self.processed(db) == len(self.events),
            timeout=timeout,
            message="every event of the burst processed",
            explain=lambda: (
                f"{self.processed(db)} of {len(self.events)} processed; queued "
                f"{[queue_depth(test_env.amqp_uri, q) for q in queues]}, parked "
                f"{[queue_depth(test_env.amqp_uri, q + '.parked') for q in queues]} "
                f"in {queues}; broker:\n{broker_snapshot(test_env)}"
            ),
        )

    def effects(self, db):
        """Effects of this burst in the consumer's own tables (rows, not distinct keys: a double shows)."""
        if self.consumer == "matching":  # the round is announced once per case through the outbox
            return count(
                db,
                "matching",
                "SELECT count(*) FROM outbox WHERE envelope->'payload'->>'case_id' = ANY(%s)",
                self.case_ids,
            )
        if self.consumer == "notifications":
            return count(db, "notifications", "SELECT count(*) FROM inbox WHERE user_id = %s", self.mentor_id)
        if self.consumer == "cases":  # the round recorded once per case, in the event store
            return count(
                db,
                "cases",
                "SELECT count(*) FROM cases_events WHERE topic LIKE %s AND originator_id::text = ANY(%s)",
                "%:Case.MentorsProposed",
                self.case_ids,
            )
        # a consenting completion is a draft for review (services/library/review.py): one per event (found
        # by its case: the draft's texts are sealed with the author's key, services/library/sealing.py)
        return count(
            db,
            "library",
            "SELECT count(*) FROM publication_drafts WHERE kind = 'solved_case' AND case_id = ANY(%s)",
            self.case_ids,
        )

    def processed(self, db):
        if self.consumer == "cases":  # cases is idempotent by round, with no processed_events
            return self.effects(db)
        return count(
            db,
            self.consumer,
            "SELECT count(*) FROM processed_events WHERE event_id::text = ANY(%s)",
            [e["event_id"] for e in self.events],
        )
