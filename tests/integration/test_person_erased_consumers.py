"""PersonErased reaches every other service's consumer on the real broker and each shreds its own key of
the person (services/common/shredding.py), once: a second delivery of the same event changes nothing
(matching, notifications and library record it in processed_events; cases keeps the tombstone as it was).
Consumers take one message at a time (tests/integration/event_helpers.py), so a later event's effect
means the earlier copies were handled."""

import uuid

import pytest

from contracts.topology import SUBSCRIPTIONS
from services.cases.service import CasesService
from services.common.shredding import KeyStore
from services.library.service import LibraryService
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.integration.event_helpers import envelope, open_broker, processed, purge
from tests.support import eventually

CONSUMERS = {
    "cases": (CasesService, "cases.identity-events", {}),
    "matching": (MatchingService, "matching.identity-events", {}),
    "notifications": (NotificationsService, "notifications.identity-events", {"EMAIL_POLL_INTERVAL": 3600}),
    "library": (LibraryService, "library.identity-events", {}),
}
WITH_PROCESSED_EVENTS = ("matching", "notifications", "library")


def database(name):
    return f"erasure_{name}"


@pytest.fixture(scope="module")
def broker(start_module_service, test_env):
    # every queue these services consume, not only identity's: an earlier module's events left in another
    # (a SurveyOpened makes notifications ask identity, which is not running here) would hold the one worker
    purge(test_env.amqp_uri, *(s.queue for s in SUBSCRIPTIONS if s.queue.split(".")[0] in CONSUMERS))
    for name, (service, _, settings) in CONSUMERS.items():
        start_module_service(service, max_workers=1, DATABASE_URL=test_env.database_url(database(name)), **settings)
    conn, broker = open_broker(test_env.amqp_uri)
    yield broker
    conn.release()


def erased_at(db, name, person_id):
    with db(database(name)).cursor() as cur:
        cur.execute("SELECT wrapped_key, erased_at FROM person_keys WHERE person_id = %s", (person_id,))
        row = cur.fetchone()
    assert row is None or row[0] is None or row[1] is None, "a key and a tombstone at once"
    return row[1] if row else None


def person_erased(person_id):
    return envelope("PersonErased", person_id, {"person_id": person_id}, source="identity")


def test_every_service_shreds_its_key_of_an_erased_person_once(broker, db):
    person = str(uuid.uuid4())
    for name in CONSUMERS:  # each service sealed something of the person (stage 2 does): it holds a key
        with db(database(name)).cursor() as cur:
            assert KeyStore("a test master key, thirty-two characters").key_for_sealing(cur, person)
    event = person_erased(person)
    broker.publish(event)
    first = {
        name: eventually(lambda name=name: erased_at(db, name, person), message=f"{name} shredded its key")
        for name in CONSUMERS
    }

    broker.publish(event)  # delivered again (at-least-once): changes nothing
    sentinel = str(uuid.uuid4())
    broker.publish(person_erased(sentinel))
    for name in CONSUMERS:
        eventually(lambda name=name: erased_at(db, name, sentinel), message=f"{name} handled the later event")
        assert erased_at(db, name, person) == first[name], name  # the tombstone as the first delivery left it
    for name in WITH_PROCESSED_EVENTS:
        assert processed(db, database(name), event) == 1, name
