"""The batching consumer's tracking insert (services/common/batch_consumer.py) on the real database.
The consumer itself is not used by the services yet (see its docstring)."""
import uuid

import psycopg2
import psycopg2.extras

from contracts.envelope import read_envelope
from services.common.batch_consumer import first_deliveries
from services.common.db import ensure_database
from services.common.schema import PROCESSED_EVENTS
from tests.integration.event_helpers import envelope


def chosen(mentor_id, number="MC-2026-000777"):
    case_id = str(uuid.uuid4())
    return envelope("MentorChosen", case_id, {"case_id": case_id, "case_number": number, "round": 1,
                                              "mentor_id": mentor_id})


def test_first_deliveries_returns_each_new_event_once_in_order(test_env):
    url = test_env.database_url("batch_tracking")
    ensure_database(url)
    a, b, c = (read_envelope(chosen(str(uuid.uuid4()))) for _ in range(3))
    conn = psycopg2.connect(url, cursor_factory=psycopg2.extras.RealDictCursor)
    try:
        with conn.cursor() as cur:
            cur.execute(PROCESSED_EVENTS)
            assert first_deliveries(cur, [b], "test") == [b]
            assert first_deliveries(cur, [c, a, b, c, a], "test") == [c, a]  # b was processed; copies dropped
            assert first_deliveries(cur, [a, b, c], "test") == []
            assert first_deliveries(cur, [], "test") == []
    finally:
        conn.rollback()
        conn.close()
