"""Put an event into a source service's outbox and relay it, as that service would."""

import eventlet

from services.common import migrations, outbox
from services.common.db import PostgresStore
from services.common.outbox import OutboxReader
from services.common.relay import EventRelay


class _Container:
    def __init__(self, config):
        self.config = config


def publish_via_outbox(test_env, source, event_type, aggregate_id, payload, url=None):
    url = url or test_env.database_url(f"{source}_fixture")
    migrations.apply(url, migrations.history_directory(source))
    store = PostgresStore(url, 2)
    try:
        with store.transaction() as cur:
            outbox.append(cur, source, event_type, aggregate_id, payload)
        relay = EventRelay(source, OutboxReader(source))
        relay.container = _Container({"AMQP_URI": test_env.amqp_uri, "DATABASE_URL": url})
        relay.setup()
        try:
            while relay.pump():
                eventlet.sleep(0)
        finally:
            relay._disconnect()
            relay.store.close()
    finally:
        store.close()
