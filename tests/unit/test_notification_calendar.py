"""The events calendar's rules: what a valid event is, who edits, cancels and attends, and when."""

from datetime import datetime, timedelta, timezone

import pytest

from contracts.errors import Conflict, Forbidden, InvalidInput
from contracts.rpc_notifications import CalendarEventFormSchema, CalendarEventPatchSchema, CalendarQuerySchema
from services.notifications import calendar

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
AUTHOR = {"user_id": "u-author", "role": "mentor"}
OTHER = {"user_id": "u-other", "role": "mentee"}
MODERATOR = {"user_id": "u-mod", "role": "moderator"}


def form(**overrides):
    data = {
        "title": "Formative assessment in practice",
        "description": "An open seminar.",
        "format": "online",
        "starts_at": NOW + timedelta(days=3),
        "ends_at": NOW + timedelta(days=3, hours=2),
        "link": "https://meet.example.org/seminar",
        "place": None,
        "rubrics": ["monitoring-evaluation"],
    }
    data.update(overrides)
    return calendar.normalize(data)


def stored(**overrides):
    event = dict(form(), id="e1", author_id=AUTHOR["user_id"], status="scheduled")
    event.update(overrides)
    return event


def errors(event, previous=None):
    return calendar.field_errors(event, NOW, previous)


def test_a_valid_online_and_offline_event():
    assert errors(form()) == {}
    assert errors(form(format="offline", link=None, place="Moscow City University, room 101")) == {}
    assert errors(form(ends_at=None)) == {}  # ends_at is optional


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"link": None}, "link", "An online event needs a link."),
        ({"link": "   "}, "link", "An online event needs a link."),
        ({"link": "ftp://files.example.org/x"}, "link", "Must be an http(s) URL."),
        ({"link": "javascript:alert(1)"}, "link", "Must be an http(s) URL."),
        ({"link": "https://"}, "link", "Must be an http(s) URL."),
        ({"format": "offline", "link": None, "place": ""}, "place", "An offline event needs a place."),
        ({"starts_at": NOW - timedelta(minutes=1), "ends_at": None}, "starts_at", "Must be in the future."),
        ({"starts_at": NOW, "ends_at": None}, "starts_at", "Must be in the future."),
        ({"ends_at": NOW + timedelta(days=3)}, "ends_at", "Must be after starts_at."),
        ({"ends_at": NOW + timedelta(days=2)}, "ends_at", "Must be after starts_at."),
        ({"title": "   "}, "title", "Must not be blank."),
    ],
)
def test_each_invalid_field_is_named(overrides, field, message):
    assert errors(form(**overrides)) == {field: [message]}


def test_an_offline_event_may_carry_a_registration_link_but_it_must_be_a_web_link():
    assert errors(form(format="offline", place="Room 5", link="https://register.example.org")) == {}
    assert errors(form(format="offline", place="Room 5", link="register here")) == {"link": ["Must be an http(s) URL."]}


def test_an_online_event_drops_a_place_and_blanks_are_dropped():
    event = form(place="Room 5", description="  x  ", rubrics=["self-management", "self-management"])
    assert event["place"] is None and event["description"] == "x" and event["rubrics"] == ["self-management"]


def test_validated_raises_one_invalid_input_with_every_field():
    with pytest.raises(InvalidInput) as caught:
        calendar.validated(form(link=None, starts_at=NOW - timedelta(hours=1)), NOW)
    assert caught.value.fields == {"link": ["An online event needs a link."], "starts_at": ["Must be in the future."]}


def test_an_edit_keeps_a_start_that_did_not_move_and_checks_a_moved_one():
    previous = stored(starts_at=NOW + timedelta(hours=1), ends_at=None)
    renamed = calendar.merge(previous, {"title": "New title"})
    assert calendar.field_errors(renamed, NOW, previous) == {}
    moved = calendar.merge(previous, {"starts_at": NOW - timedelta(hours=1)})
    assert calendar.field_errors(moved, NOW, previous) == {"starts_at": ["Must be in the future."]}


def test_a_patch_changes_only_what_it_names_and_null_clears():
    current = stored()
    merged = calendar.merge(current, {"ends_at": None, "format": "offline", "place": "Room 7"})
    assert merged["ends_at"] is None and merged["place"] == "Room 7" and merged["title"] == current["title"]
    assert merged["link"] == current["link"]
    assert calendar.changed_for_attendees(current, merged)
    assert not calendar.changed_for_attendees(current, calendar.merge(current, {"title": "Renamed"}))


def test_only_the_author_edits_a_scheduled_event_before_it_starts():
    event = stored()
    calendar.authorize_edit(AUTHOR, event, NOW)
    for actor in (OTHER, MODERATOR):
        with pytest.raises(Forbidden):
            calendar.authorize_edit(actor, event, NOW)
    with pytest.raises(Conflict):
        calendar.authorize_edit(AUTHOR, stored(status="cancelled"), NOW)
    with pytest.raises(Conflict):
        calendar.authorize_edit(AUTHOR, event, event["starts_at"] + timedelta(minutes=1))


def test_the_author_or_a_moderator_cancels():
    event = stored()
    calendar.authorize_cancel(AUTHOR, event, NOW)
    calendar.authorize_cancel(MODERATOR, event, NOW)
    with pytest.raises(Forbidden):
        calendar.authorize_cancel(OTHER, event, NOW)
    with pytest.raises(Conflict):
        calendar.authorize_cancel(AUTHOR, event, event["ends_at"] + timedelta(minutes=1))
    calendar.authorize_cancel(AUTHOR, stored(status="cancelled"), NOW)  # cancelling again changes nothing


def test_attending_needs_a_scheduled_event_that_is_not_over():
    calendar.authorize_attend(stored(), NOW)
    calendar.authorize_attend(stored(), stored()["starts_at"] + timedelta(minutes=30))  # still running
    with pytest.raises(Conflict):
        calendar.authorize_attend(stored(status="cancelled"), NOW)
    with pytest.raises(Conflict):
        calendar.authorize_attend(stored(ends_at=None), stored()["starts_at"] + timedelta(seconds=1))


def test_the_date_range_defaults_to_from_now_and_must_not_be_empty():
    assert calendar.time_range({"starts_from": None, "until": None}, NOW) == (NOW, None)
    later = NOW + timedelta(days=7)
    assert calendar.time_range({"starts_from": NOW, "until": later}, NOW) == (NOW, later)
    with pytest.raises(InvalidInput) as caught:
        calendar.time_range({"starts_from": later, "until": NOW}, NOW)
    assert caught.value.fields == {"to": ["Must be after from."]}


def test_the_same_create_request_is_one_event():
    assert calendar.event_id("u1", "key-1") == calendar.event_id("u1", "key-1")
    assert calendar.event_id("u1", "key-1") != calendar.event_id("u2", "key-1")


def test_attendees_texts_name_the_new_time_and_none_of_the_authors_texts():
    """The inbox and e-mail outbox are not sealed: the entry links to the event (calendar_event_id) instead
    of copying its title, place or link there in plaintext."""
    event = stored(
        starts_at=datetime(2026, 3, 5, 15, 0, tzinfo=timezone.utc),
        title="Petrov's fractions",
        description="About the Petrov family",
        place="School 57, room 12",
        link="https://meet.example.org/petrov",
    )
    for text in (calendar.change_text(event), calendar.cancellation_text(event)):
        assert "2026-03-05 15:00 UTC" in text
        assert not [v for v in ("Petrov", "School 57", "meet.example.org") if v in text], text
    assert calendar.cancellation_text(event).endswith("was cancelled.")


def test_the_schemas_take_the_query_names_and_a_partial_patch():
    query = CalendarQuerySchema().load(
        {"from": "2026-03-01T00:00:00+00:00", "to": "2026-04-01T00:00:00Z", "rubric": "self-management"}
    )
    assert query["starts_from"].month == 3 and query["until"].month == 4
    assert CalendarQuerySchema().dump(query)["from"].startswith("2026-03-01")
    assert "rubric" in CalendarQuerySchema().validate({"rubric": "astrology"})
    assert CalendarEventPatchSchema().load({"title": "Only this"}) == {"title": "Only this"}
    missing = CalendarEventFormSchema().validate({})
    assert {"title", "format", "starts_at"} <= set(missing)
    assert "starts_at" in CalendarEventFormSchema().validate(
        {"title": "t", "format": "online", "starts_at": "2026-03-05T15:00:00"}
    )  # no time zone
