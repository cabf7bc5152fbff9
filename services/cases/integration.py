"""The relay's source: the cases log mapped to integration envelopes (contracts/events.py).

The mapping itself, and its check against the contracts, are in outgoing.py.
"""

import json
from collections import OrderedDict

from contracts.envelope import Envelope
from services.cases.application import event_id, open_application
from services.cases.domain import Case
from services.cases.outgoing import integration_payload, wire_payload
from services.common.relay import Outgoing


def case_envelope(domain_event, position, event_type, version, payload):
    """The envelope of a stored event at its log position: its event id is stable, so a consumer
    drops it if it comes again (the relay after a crash, a researcher's rebuild)."""
    return Envelope(
        event_id=event_id(domain_event.originator_id, domain_event.originator_version),
        type=event_type,
        schema_version=version,
        source="cases",
        aggregate_id=str(domain_event.originator_id),
        position=position,
        occurred_at=domain_event.timestamp,
        payload=payload,
        correlation_id=getattr(domain_event, "correlation_id", "") or "",
    )


class CaseLogReader:
    """The relay's source: the application's notification log, read past a position.

    Each event is mapped with the case as of that event. The reader keeps the cases it mapped
    last (``cache_size``) and moves each one event forward, instead of loading every case from
    its whole stream again for every event (quadratic in the length of a case).
    """

    def __init__(self, cache_size=10_000):
        self.cache_size = cache_size
        self._cases = OrderedDict()  # case id -> Case as of the last event this reader mapped

    def setup(self, container, store):
        self.app = open_application(
            container.config["DATABASE_URL"], pool_size=2, master_key=container.config.get("PERSON_KEYS_MASTER_KEY")
        )
        self.store = store

    def case_at(self, domain_event):
        """The case right after ``domain_event``: the cached case moved one event on, else loaded."""
        case_id, version = domain_event.originator_id, domain_event.originator_version
        case = self._cases.pop(case_id, None)
        if case is not None and case.version == version - 1:
            case = domain_event.mutate(case)
        elif isinstance(domain_event, Case.Created):
            case = domain_event.mutate(None)
        else:  # not cached (evicted, or the relay restarted mid-case), or relayed twice
            case = self.app.get_case_at(case_id, version)
        self._cases[case_id] = case
        if len(self._cases) > self.cache_size:
            self._cases.popitem(last=False)
        return case

    def read(self, after, limit):
        # eventsourcing's notification_log.select refuses limit > 10; the recorder does not.
        notifications = self.app.recorder.select_notifications(start=after + 1, limit=limit)
        messages = []
        # the page's events at once: their sealed texts opened with one query for their writers' keys
        for notification, domain_event in zip(notifications, self.app.mapper.to_domain_events(notifications)):
            mapped = integration_payload(domain_event, self.case_at(domain_event))
            if mapped is None:
                continue
            event_type, payload = mapped
            version, data = wire_payload(domain_event, event_type, payload)
            envelope = case_envelope(domain_event, notification.id, event_type, version, data)
            messages.append(
                Outgoing(
                    position=notification.id,
                    type=event_type,
                    event_id=str(envelope.event_id),
                    correlation_id=envelope.correlation_id,
                    body=json.dumps(envelope.to_message()),
                )
            )
        last = notifications[-1].id if notifications else after
        return last, messages

    def backlog(self, after):
        """(events stored after ``after``, the oldest one's time or None), for the lag metrics."""
        with self.store.transaction() as cur:
            cur.execute(
                f"SELECT count(*) AS count FROM {self.app.recorder.events_table_name} "  # noqa: S608
                "WHERE notification_id > %s",
                (after,),
            )
            count = cur.fetchone()["count"]
        if not count:
            return 0, None
        oldest = self.app.recorder.select_notifications(start=after + 1, limit=1)
        return count, self.app.mapper.to_domain_event(oldest[0]).timestamp if oldest else None
