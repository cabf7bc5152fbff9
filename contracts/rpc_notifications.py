"""The notifications service's RPC payloads and results, shared by the gateway (HTTP bodies) and the
services; what several services share (the actor first) is contracts/rpc_common.py's.

notifications: list_inbox(actor) -> [InboxEntryView];  mark_read(actor, entry_id) -> InboxEntryView
               inbox_page(actor, query) -> InboxPage (InboxQuerySchema; newest first, with unread_count)
               unread_count(actor) -> UnreadCount;  mark_all_read(actor, {up_to}) -> MarkAllReadResult
               get_preferences(actor) -> Preferences;  update_preferences(actor, {email, news}) -> Preferences
               news_page(query) / news_item(item_id) -> NewsPage / NewsItemView (public: published items only)
               news_desk(actor, query) / news_history(actor, item_id) -> NewsPage / NewsHistory (moderators)
               create_news(actor, form, request_key=None) / edit_news(actor, item_id, patch) /
                   withdraw_news(actor, item_id, {reason}) -> NewsItemView (moderators; contracts/news.py)
               send_direct_message(actor, {recipient_id, text}, request_key=None) -> DirectMessageView
               list_conversations(actor) -> [ConversationView];  get_thread(actor, peer_id, query) -> MessageThread
                   (mentors and moderators only; a mentee is refused)
               create_calendar_event(actor, form, request_key=None) -> CalendarEventView
               list_calendar_events(actor, query) -> [CalendarEventView] (CalendarQuerySchema, dumped)
               get_calendar_event(actor, event_id) / update_calendar_event(actor, event_id, patch)
               cancel_calendar_event(actor, event_id, {reason}) / attend(actor, event_id) / unattend(...)
                   -> CalendarEventView (the author edits; the author or a moderator cancels)
"""

from typing import Any

from marshmallow import Schema, fields, validate

from contracts import vocabulary as v
from contracts.news import NewsSubscriptionSchema
from contracts.notification_kinds import KIND_NAMES as NOTIFICATION_KINDS
from contracts.rpc_common import UUID_PATTERN, RubricList
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import Moment, not_blank


class InboxQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    before = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={
            "description": "The id of the last entry seen (one of yours): the page after it",
            "pattern": UUID_PATTERN,
        },
    )
    unread_only = fields.Boolean(load_default=False)


class MarkAllReadSchema(Schema):
    up_to = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={
            "description": "The newest entry the reader has seen, one of their own (it and "
            "older ones are marked); omit to mark every entry",
            "pattern": UUID_PATTERN,
        },
    )


class PreferencesUpdateSchema(Schema):
    email = fields.Dict(
        keys=fields.String(validate=validate.OneOf(NOTIFICATION_KINDS)),
        values=fields.Boolean(required=True),
        load_default=dict,
        metadata={"description": "Notification kind -> send an e-mail too; kinds not named keep their setting"},
    )
    # no null and no load_default=None (which implies allow_none): apispec states a nullable nested
    # schema as "any object" (anyOf [$ref, {type: object, nullable}]), and the fuzz test found
    # {"news": {}} valid by the document yet refused by the service
    news = fields.Nested(
        NewsSubscriptionSchema,
        metadata={"description": "Get news items of one's rubrics of interest in the inbox; omitted: unchanged"},
    )


class DirectMessageSchema(Schema):
    recipient_id = fields.String(required=True, validate=validate.Length(1, 64))
    text = fields.String(required=True, validate=[validate.Length(1, 2000), not_blank])


class MessageThreadQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={
            "description": "The id of the oldest message seen (of this conversation): the page before it",
            "pattern": UUID_PATTERN,
        },
    )


class CalendarEventFormSchema(Schema):
    """An event of the calendar; which fields a format needs, and the times' order, are checked by the
    notifications service (field errors): online needs a link, offline a place."""

    title = fields.String(required=True, validate=[validate.Length(1, 200), not_blank])
    description = fields.String(validate=validate.Length(max=5000))
    format = fields.String(required=True, validate=validate.OneOf(v.EVENT_FORMATS))
    starts_at = Moment(required=True, metadata={"description": "In the future, with a time zone"})
    ends_at = Moment(allow_none=True, metadata={"description": "After starts_at; optional"})
    link = fields.String(
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "http(s) URL; required online", "format": "url"},
    )
    place = fields.String(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"description": "Address or room; required offline"},
    )
    rubrics = RubricList(validate=validate.Length(max=12))


class CalendarEventPatchSchema(CalendarEventFormSchema):
    """Any subset of the form's fields; the merged event is checked again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class CalendarQuerySchema(Schema):
    starts_from = Moment(
        data_key="from",
        load_default=None,
        allow_none=True,
        metadata={"description": "Events not over by then; default now"},
    )
    until = Moment(
        data_key="to",
        load_default=None,
        allow_none=True,
        metadata={"description": "Events starting before then (after from); default unbounded"},
    )
    rubric = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RUBRIC_SLUGS))
    include_cancelled = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 200))


class InboxEntryViewSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "One of contracts/notification_kinds.py"})
    audience = fields.String(
        metadata={"description": "personal, or moderators: shared by every moderator, each with their own read state"}
    )
    case_id = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True)
    peer_id = fields.String(allow_none=True, metadata={"description": "The sender of a direct message"})
    calendar_event_id = fields.String(allow_none=True)
    news_item_id = fields.String(
        allow_none=True, metadata={"description": "The news item a news_published entry announces"}
    )
    text = fields.String()
    created_at = fields.String()
    read_at = fields.String(allow_none=True)


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(InboxEntryViewSchema), required=True, metadata={"description": "Newest first"})
    unread_count = fields.Integer(required=True)
    next_before = fields.String(
        allow_none=True, metadata={"description": "Pass as ?before= for the next page; null on the last"}
    )


class UnreadCountSchema(Schema):
    unread = fields.Integer(required=True)


class MarkAllReadResultSchema(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)


class PreferenceViewSchema(Schema):
    kind = fields.String()
    label = fields.String()
    email = fields.Boolean()


class PreferencesSchema(Schema):
    items = fields.List(fields.Nested(PreferenceViewSchema), required=True)
    news = fields.Nested(
        NewsSubscriptionSchema,
        metadata={"description": "The news subscription (unsubscribed, every rubric, until chosen)"},
    )


class DirectMessageViewSchema(Schema):
    id = fields.String()
    sender_id = fields.String()
    recipient_id = fields.String()
    text = fields.String()
    sent_at = fields.String()
    read_at = fields.String(allow_none=True)


class ConversationViewSchema(Schema):
    peer_id = fields.String()
    last_message = fields.Nested(DirectMessageViewSchema)
    unread_count = fields.Integer()


class MessageThreadSchema(Schema):
    peer_id = fields.String()
    items = fields.List(fields.Nested(DirectMessageViewSchema), metadata={"description": "Newest first"})
    next_before = fields.String(allow_none=True)


class CalendarEventViewSchema(Schema):
    id = fields.String()
    author_id = fields.String()
    title = fields.String()
    description = fields.String()
    format = fields.String()
    starts_at = fields.String()
    ends_at = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    rubrics = fields.List(fields.String())
    status = fields.String(metadata={"description": "scheduled or cancelled"})
    cancel_reason = fields.String(allow_none=True)
    attendees_count = fields.Integer()
    attending = fields.Boolean(metadata={"description": 'Whether the signed-in user marked "I\'ll attend"'})
    created_at = fields.String()
    updated_at = fields.String()
