"""The pure rules of news items (services/notifications/news.py): the publication time, the meeting
link, what a published item may still change, who of the subscribers gets an item, the list's cursor."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from contracts.errors import Conflict, InvalidInput
from services.common import paging
from services.notifications import news

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def form(**fields):
    return news.normalize({"title": " Title ", "text": "Text", **fields})


def stored(**fields):
    return {
        "id": uuid.uuid4(),
        "status": "active",
        "version": 1,
        "title": "Title",
        "text": "Text",
        "rubrics": [],
        "meeting_link": None,
        "publish_at": NOW - timedelta(hours=1),
        **fields,
    }


def test_no_time_or_a_moment_ago_is_now_and_a_later_time_is_kept():
    assert news.validated(form(), NOW)["publish_at"] == NOW
    assert news.validated(form(publish_at=NOW - timedelta(seconds=30)), NOW)["publish_at"] == NOW
    assert news.validated(form(publish_at=NOW + timedelta(days=1)), NOW)["publish_at"] == NOW + timedelta(days=1)
    assert news.validated(form(), NOW)["title"] == "Title"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"publish_at": NOW - timedelta(minutes=5)}, "publish_at"),
        ({"meeting_link": "javascript:alert(1)"}, "meeting_link"),
        ({"meeting_link": "ftp://example.org/x"}, "meeting_link"),
        ({"meeting_link": "https://exa mple.org"}, "meeting_link"),
    ],
)
def test_a_past_time_or_a_link_that_is_not_http_names_its_field(fields, field):
    with pytest.raises(InvalidInput) as refused:
        news.validated(form(**fields), NOW)
    assert set(refused.value.fields) == {field}


def test_a_published_item_keeps_its_time_and_a_scheduled_one_may_move():
    published = stored()
    assert (
        news.validated(news.merge(published, {"title": "New"}), NOW, previous=published)["publish_at"]
        == published["publish_at"]
    )
    with pytest.raises(InvalidInput) as refused:
        news.validated(news.merge(published, {"publish_at": NOW + timedelta(days=1)}), NOW, previous=published)
    assert set(refused.value.fields) == {"publish_at"}
    scheduled = stored(publish_at=NOW + timedelta(days=1))
    assert news.validated(news.merge(scheduled, {"publish_at": None}), NOW, previous=scheduled)["publish_at"] == NOW
    assert not news.changed(scheduled, news.merge(scheduled, {}))


def test_states_and_what_the_public_sees():
    assert news.state_of(stored(), NOW) == news.PUBLISHED
    assert news.state_of(stored(publish_at=NOW + timedelta(seconds=1)), NOW) == news.SCHEDULED
    assert news.state_of(stored(status="withdrawn"), NOW) == news.WITHDRAWN
    assert not news.visible_to(stored(status="withdrawn"), None, NOW)
    assert news.visible_to(stored(status="withdrawn"), {"role": "moderator"}, NOW)
    with pytest.raises(Conflict):
        news.authorize_change(stored(status="withdrawn"))


@pytest.mark.parametrize(
    "interests, item_rubrics, told",
    [
        ([], ["self-management"], True),  # every rubric
        (["self-management"], [], True),  # an item for everyone
        (["self-management"], ["self-management", "education-law"], True),
        (["professional-ethics"], ["self-management"], False),
    ],
)
def test_who_of_the_subscribers_gets_an_item(interests, item_rubrics, told):
    assert news.wants(interests, item_rubrics) is told


def test_the_cursor_goes_round_and_a_foreign_one_names_the_field():
    row = stored()
    assert paging.decode_cursor(paging.encode_cursor(row["publish_at"], row["id"])) == (
        row["publish_at"],
        str(row["id"]),
    )
    with pytest.raises(InvalidInput) as refused:
        paging.decode_cursor("bm90IGEgY3Vyc29y")
    assert set(refused.value.fields) == {"cursor"}
