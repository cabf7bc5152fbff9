"""The pipelined relay: a batch goes out without waiting for each confirm, and only the confirmed
prefix of the log is recorded; the cases reader maps each event with its case moved one event on,
and publishes what was checked against its contract when it was saved as it is."""

import json
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.exceptions import deserialize, serialize

from contracts.errors import InvalidInput
from contracts.events import dump_payload
from services.cases import application, integration
from services.cases.application import open_application
from services.cases.domain import Case
from services.cases.integration import CaseLogReader
from services.cases.outgoing import CONTRACT_STAMP, ContractBroken
from services.common import metrics, migrations, outbox
from services.common.clock import utc_now
from services.common.db import PostgresStore, ensure_database
from services.common.outbox import OutboxReader
from services.common.relay import BatchNotConfirmed, EventRelay
from tests.support import case_form


class _Container:
    def __init__(self, config):
        self.config = config


@pytest.fixture
def relay_source(test_env):
    """A source of its own: an outbox in a fresh database, its exchange, and a queue that holds
    at most LIMIT messages and makes the broker nack every publish beyond (reject-publish)."""
    source = f"relaytest{uuid.uuid4().hex[:8]}"
    url = test_env.database_url(source)
    migrations.apply(url, migrations.history_directory("matching"))  # an outbox and relay_position
    store = PostgresStore(url, 2)
    conn = Connection(test_env.amqp_uri)
    channel = conn.channel()
    exchange = Exchange(f"{source}.events", type="topic", durable=True)(channel)
    exchange.declare()
    queue = Queue(
        f"{source}.limited",
        exchange=exchange,
        routing_key="#",
        durable=True,
        queue_arguments={"x-max-length": LIMIT, "x-overflow": "reject-publish"},
    )(channel)
    queue.declare()
    relay = EventRelay(source, OutboxReader(source), history="matching")
    relay.container = _Container({"AMQP_URI": test_env.amqp_uri, "DATABASE_URL": url})
    relay.setup()
    yield source, store, relay, queue
    relay._disconnect()
    relay.store.close()
    queue.delete()
    exchange.delete()
    conn.release()
    store.close()


LIMIT = 4


def _append(store, source, n):
    positions = []
    with store.transaction() as cur:
        for i in range(n):
            positions.append(
                outbox.append(
                    cur,
                    source,
                    "CaseFlagged",
                    uuid.uuid4(),
                    {"case_id": str(uuid.uuid4()), "case_number": f"C-{i}", "reason": "no_mentor_found", "round": 1},
                )
            )
    return positions


def _position(store, source):
    with store.transaction() as cur:
        cur.execute("SELECT position FROM relay_position WHERE relay = %s", (source,))
        return cur.fetchone()["position"]


def _drain(queue):
    received = []
    while (message := queue.get(no_ack=True)) is not None:
        received.append(json.loads(message.body)["position"])
    return received


def test_a_batch_is_published_pipelined_and_its_last_position_recorded(relay_source):
    source, store, relay, queue = relay_source
    positions = _append(store, source, LIMIT)
    assert relay.pump() == LIMIT  # one batch, every publish in flight at once, all acked
    assert _position(store, source) == positions[-1]
    assert _drain(queue) == positions


def test_only_the_confirmed_prefix_is_recorded_and_the_rest_goes_out_again(relay_source):
    source, store, relay, queue = relay_source
    positions = _append(store, source, 10)
    delivered = []
    for _round in range(2):  # the queue takes 4, the broker nacks the other publishes of the batch
        with pytest.raises(BatchNotConfirmed):
            relay.pump()
        assert _position(store, source) == positions[len(delivered) + LIMIT - 1]
        delivered += _drain(queue)
        relay._disconnect()  # as the relay loop does after a failure: a fresh channel
    assert relay.pump() == 10 - 2 * LIMIT  # the last two fit
    delivered += _drain(queue)
    assert delivered == positions  # every event exactly once, in order: nothing lost, nothing skipped
    assert _position(store, source) == positions[-1]
    assert relay.pump() == 0


def _scraped_leading(source):
    """{relay's position in SCRAPED: mentor_relay_leading} for ``source``, as a scrape reads it."""
    family = next(f for f in metrics.SCRAPED.collect() if f.name == "mentor_relay_leading")
    return [sample.value for sample in family.samples if sample.labels["source"] == source]


def test_one_replica_publishes_at_a_time_and_says_so(relay_source):
    """Two relays of one source (two replicas of a service): while one holds the position, the
    other publishes nothing and its mentor_relay_leading is 0; once it gets the position it
    publishes, leads, and counts what it published (mentor_relay_published_events_total)."""
    source, store, relay, queue = relay_source
    other = EventRelay(source, OutboxReader(source))
    other.container = relay.container
    other.setup()
    published = lambda: metrics.RELAY_PUBLISHED.labels(source)._value.get()  # noqa: E731
    try:
        metrics.SCRAPED.add(metrics.SCRAPED.relays, id(relay), ("replica-1", relay))
        metrics.SCRAPED.add(metrics.SCRAPED.relays, id(other), ("replica-2", other))
        positions = _append(store, source, 2)
        with store.transaction() as cur:  # the first replica in the middle of its batch
            cur.execute("SELECT position FROM relay_position WHERE relay = %s FOR UPDATE", (source,))
            relay.leading = True
            assert other.pump() == 0
            assert other.leading is False
            assert sorted(_scraped_leading(source)) == [0.0, 1.0]
        before = published()
        assert other.pump() == 2
        assert other.leading is True and published() == before + 2
        assert _drain(queue) == positions
        assert relay.pump() == 0 and relay.leading is True  # nothing left, but the position was its own
    finally:
        metrics.SCRAPED.remove(metrics.SCRAPED.relays, id(relay))
        metrics.SCRAPED.remove(metrics.SCRAPED.relays, id(other))
        other._disconnect()
        other.store.close()


def _journeys(app, n_cases):
    """Cases whose events interleave in the log, with a redefinition that changes the rubrics."""
    author, mentor = str(uuid.uuid4()), str(uuid.uuid4())
    cases = [
        Case.file(uuid.uuid4(), f"PIPE-{i}", author, case_form(rubrics=["self-management"])) for i in range(n_cases)
    ]
    app.save(*cases)
    steps = [
        lambda c: c.record_proposals(1, [{"mentor_id": mentor, "matched_rubrics": [], "score": 1.0}], now=utc_now()),
        lambda c: c.choose_mentor(author, mentor, now=utc_now()),
        lambda c: c.accept(mentor, now=utc_now()),
        lambda c: c.answer_questions(
            author,
            [
                {"question_id": q, "text": "An answer."}
                for q in c.ask_questions(
                    mentor, [{"bank_id": None, "text": "Which form?", "kind": "clarifying"}], now=utc_now()
                )
            ],
            now=utc_now(),
        ),
        lambda c: c.redefine(author, {**c.form, "rubrics": ["teaching-methods", "self-management"]}, now=utc_now()),
    ]
    for step in steps:
        for case in cases:
            step(case)
            app.save(case)


@pytest.fixture
def cases_log(test_env):
    """The cases application on a database of its own, its log emptied."""
    url = test_env.database_url("cases_relay_reader")
    ensure_database(url)
    app = open_application(url, pool_size=2)
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute("TRUNCATE cases_events")
    yield app, _Container({"DATABASE_URL": url})
    app.close()


def _read_all(reader, batch):
    messages, after = [], 0
    while True:
        last, page = reader.read(after, batch)
        if last == after:
            return messages
        messages += page
        after = last


def _reader(container, **options):
    reader = CaseLogReader(**options)
    reader.setup(container, None)
    return reader


def test_the_cached_case_reader_maps_exactly_as_loading_each_case_again(cases_log):
    app, container = cases_log
    _journeys(app, 4)
    expected = _read_all(_reader(container, cache_size=0), 1000)
    assert len(expected) >= 4 * 7
    assert any(m.type == "CaseRedefined" for m in expected)
    cached = _reader(container)
    assert _read_all(cached, 3) == expected  # small batches: cases move on across batches
    assert _read_all(cached, 5) == expected  # read again (a relay that restarts): loaded afresh


def test_events_checked_when_saved_go_out_exactly_as_the_contract_dumps_them(cases_log, monkeypatch):
    app, container = cases_log
    _journeys(app, 3)
    stored = list(app.recorder.select_notifications(1, 1000))
    assert stored and all(CONTRACT_STAMP in app.mapper.to_domain_event(n).__dict__ for n in stored)
    published = _read_all(_reader(container), 1000)  # stamped: not checked again
    monkeypatch.setattr(
        integration, "wire_payload", lambda _event, event_type, payload: dump_payload(event_type, payload)
    )  # the relay as it was: every payload checked and dumped
    assert _read_all(_reader(container), 1000) == published


BROKEN_PROPOSALS = [{"mentor_id": None, "matched_rubrics": [], "score": 1.0}]  # mentor_ids [None]: off contract


def test_a_command_whose_event_breaks_its_contract_stores_nothing(cases_log):
    app, _container = cases_log
    case = Case.file(uuid.uuid4(), "PIPE-0", str(uuid.uuid4()), case_form())
    app.save(case)
    with pytest.raises(ContractBroken, match="MentorsProposed"):
        app.change(case.id, lambda c: c.record_proposals(1, BROKEN_PROPOSALS, now=utc_now()))
    assert app.recorder.max_notification_id() == 1
    assert app.get_case(case.id).version == 1 and app.get_case(case.id).state == case.state


def test_a_command_producing_an_oversized_field_is_a_400_naming_it_and_stores_nothing(cases_log):
    """Every string of an event contract has a maximum length: a command whose event would carry more
    (here the domain given a forum title, or a case number, no request schema would let through) is
    refused as invalid input naming the payload's field, across RPC as well, and nothing is stored."""
    app, _container = cases_log
    author = str(uuid.uuid4())
    case = Case.file(uuid.uuid4(), "PIPE-0", author, case_form(group_discussion_consent=True))
    app.save(case)
    stored = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as refused:
        app.change(case.id, lambda c: c.publish_to_forum(author, None, "T" * 5000))
    assert refused.value.status == 400 and set(refused.value.fields) == {"title"}, refused.value.fields
    assert "TTTT" not in str(refused.value)  # the limit is named, the value is not repeated
    with pytest.raises(InvalidInput) as refused:
        app.create_case(uuid.uuid4(), "9" * (1 << 20), author, case_form())
    assert set(refused.value.fields) == {"case_number"}, refused.value.fields
    again = deserialize(serialize(refused.value))  # as the gateway gets it from the cases service
    assert type(again) is type(refused.value) and (again.status, again.fields) == (400, refused.value.fields)
    assert app.recorder.max_notification_id() == stored
    assert app.get_case(case.id).version == 1 and app.get_case(case.id).forum_publications == []


def test_the_relay_still_checks_an_event_saved_without_a_stamp(cases_log, monkeypatch):
    app, container = cases_log
    case = Case.file(uuid.uuid4(), "PIPE-0", str(uuid.uuid4()), case_form())
    app.save(case)
    with monkeypatch.context() as patched:  # as a version before the check at save stored it
        patched.setattr(application, "check_and_stamp", lambda *_: None)
        app.change(case.id, lambda c: c.record_proposals(1, BROKEN_PROPOSALS, now=utc_now()))
    with pytest.raises(ValueError, match="breaks its contract"):  # never published as it is
        _reader(container).read(0, 10)
