"""Contract schemas: the case form, envelopes, event payloads, topology."""

import uuid

import pytest

from contracts.case_form import CaseFormSchema
from contracts.envelope import Envelope, UnreadableEnvelope, read_envelope
from contracts.errors import InvalidInput
from contracts.events import EVENTS, dump_payload
from contracts.rubrics import RUBRIC_SLUGS, RUBRICS
from contracts.topology import SUBSCRIPTIONS, consumer_queue
from contracts.validation import load, schema_of
from contracts.vocabulary import PARTICIPANTS
from tests.support import case_form


def test_the_rubricator_has_twelve_stable_slugs_with_comments():
    assert len(RUBRICS) == 12 and len(set(RUBRIC_SLUGS)) == 12
    assert [r.number for r in RUBRICS] == list(range(1, 13))
    assert all(r.comment and r.label for r in RUBRICS)


def test_participants_offer_one_choice_per_form():
    assert [p for p in PARTICIPANTS if p.startswith("pupils-form-")] == [f"pupils-form-{n}" for n in range(1, 12)]


@pytest.mark.parametrize(
    "field, value",
    [
        ("essence", "x" * 1001),
        ("essence", ""),
        ("essence", "   "),
        ("question", "q" * 501),
        ("actions_taken", "a" * 1001),
        ("difficulty", "d" * 1001),
        ("rubrics", []),
        ("rubrics", ["astrology"]),
        ("rubrics", ["education-law", "education-law"]),
        ("participants", ["aliens"]),
        ("mode", "secret"),
        ("urgency", "yesterday"),
        ("publication_consent", "maybe"),
    ],
)
def test_the_case_form_names_the_bad_field(field, value):
    with pytest.raises(InvalidInput) as refused:
        load(CaseFormSchema(), case_form(**{field: value}))
    assert list(refused.value.fields) == [field]


def test_the_case_form_accepts_the_limits():
    form = load(CaseFormSchema(), case_form(essence="e" * 1000, question="q" * 500))
    assert len(form["essence"]) == 1000


def test_missing_required_fields_are_each_named():
    with pytest.raises(InvalidInput) as refused:
        load(CaseFormSchema(), {})
    assert {
        "essence",
        "question",
        "rubrics",
        "mode",
        "urgency",
        "group_discussion_consent",
        "publication_consent",
    } == set(refused.value.fields)


def test_a_schema_class_is_loaded_with_its_one_reused_instance():
    first = load(CaseFormSchema, case_form())
    assert first == load(CaseFormSchema(), case_form())
    with pytest.raises(InvalidInput) as refused:  # the reused instance keeps nothing of earlier loads
        load(CaseFormSchema, case_form(essence=""))
    assert list(refused.value.fields) == ["essence"]
    assert load(CaseFormSchema, case_form()) == first
    assert schema_of(CaseFormSchema) is schema_of(CaseFormSchema)


def test_an_envelope_round_trips():
    _, payload = dump_payload("MentorChosen", {"case_id": "c", "case_number": "MC-1", "round": 1, "mentor_id": "m"})
    message = Envelope(
        type="MentorChosen", source="cases", aggregate_id="c", payload=payload, position=7, correlation_id="abc"
    ).to_message()
    envelope = read_envelope(message)
    assert envelope.payload == payload and envelope.position == 7 and envelope.correlation_id == "abc"
    assert isinstance(envelope.event_id, uuid.UUID)


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda m: m.update(schema_version=99), "unknown event type or schema version"),
        (lambda m: m.update(type="Nonsense"), "unknown event type or schema version"),
        (lambda m: m.pop("event_id"), "invalid envelope"),
        (lambda m: m["payload"].pop("mentor_id"), "invalid payload"),
        (lambda m: m["payload"].update(extra=1), "invalid payload"),
    ],
)
def test_an_unreadable_envelope_is_refused_with_a_reason(mutate, reason):
    message = Envelope(
        type="MentorChosen",
        source="cases",
        aggregate_id="c",
        payload={"case_id": "c", "case_number": "MC-1", "round": 1, "mentor_id": "m"},
    ).to_message()
    mutate(message)
    with pytest.raises(UnreadableEnvelope) as refused:
        read_envelope(message)
    assert refused.value.reason.startswith(reason)


def test_a_body_that_is_not_an_object_is_unreadable():
    with pytest.raises(UnreadableEnvelope):
        read_envelope("not json")


def test_a_producer_cannot_emit_a_payload_that_breaks_its_contract():
    with pytest.raises(ValueError):
        dump_payload("CaseCreated", {"case_id": "c"})


def test_every_subscribed_event_has_a_contract_from_that_source():
    sources = {etype: source for (etype, _), (source, _) in EVENTS.items()}
    for sub in SUBSCRIPTIONS:
        for event_type in sub.event_types:
            assert sources[event_type] == sub.source
        queue = consumer_queue(sub)
        assert queue.queue_arguments["x-dead-letter-routing-key"] == sub.queue
