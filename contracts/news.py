"""News items of the information portal (issue #22, part 2): what moderators publish and everyone reads.

The notifications service owns them (services/notifications/news.py); the gateway and the browser
client use these schemas. A news item has a title, a text, optional rubrics, an optional link to an
online meeting (http or https only) and a publication time: now, or later (until then only moderators
see it). Every create, edit and withdrawal keeps a version: the history.
"""

from typing import Any

from marshmallow import Schema, fields, validate

from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import Moment, not_blank, unique

TITLE_MAX = 200
TEXT_MAX = 20000
LINK_MAX = 1000
REASON_MAX = 1000
PAGE_DEFAULT, PAGE_MAX = 20, 100
STATES = ("scheduled", "published", "withdrawn")  # scheduled: its publication time is still to come


def _Rubrics(**kw: Any) -> fields.List[str]:  # noqa: N802 (named as the field classes it stands beside)
    return fields.List(
        fields.String(validate=validate.OneOf(RUBRIC_SLUGS)),
        validate=[validate.Length(max=len(RUBRIC_SLUGS)), unique],
        **kw,
    )


class NewsItemFormSchema(Schema):
    title = fields.String(required=True, validate=[validate.Length(1, TITLE_MAX), not_blank])
    text = fields.String(required=True, validate=[validate.Length(1, TEXT_MAX), not_blank])
    rubrics = _Rubrics(load_default=list)
    meeting_link = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=LINK_MAX),
        metadata={
            "description": "A link to an online meeting: an http(s) URL (anything else is a 400 on this field)",
            "format": "url",
        },
    )
    publish_at = Moment(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "When the item appears to everyone: now (null, or a moment up to a minute ago) or "
            "later; until then only moderators see it. Earlier is a 400 on this field"
        },
    )


class NewsItemPatchSchema(NewsItemFormSchema):
    """Any subset of the form's fields; the publication time changes only while the item is scheduled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class NewsWithdrawalSchema(Schema):
    reason = fields.String(required=True, validate=[validate.Length(1, REASON_MAX), not_blank])


class NewsQuerySchema(Schema):
    rubric = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RUBRIC_SLUGS))
    limit = fields.Integer(
        load_default=PAGE_DEFAULT,
        validate=validate.Range(1, PAGE_MAX),
        metadata={"description": f"Items per page (default {PAGE_DEFAULT}, at most {PAGE_MAX})"},
    )
    cursor = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 200),
        metadata={"description": "next_cursor of the previous page: the page after it"},
    )


class NewsDeskQuerySchema(NewsQuerySchema):
    state = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(STATES),
        metadata={"description": "Only items in this state; default every state"},
    )


class NewsSubscriptionSchema(Schema):
    """A person's choice to get news items in the inbox (and by e-mail, per the kind's e-mail switch)."""

    subscribed = fields.Boolean(
        required=True,
        metadata={
            "description": "Get published news items of these rubrics in the inbox (and by e-mail unless the "
            "kind news_published is off)"
        },
    )
    rubrics = _Rubrics(
        load_default=list,
        metadata={
            "description": "Rubrics of interest: an item with any of them, or with no rubric, is sent; empty: "
            "every item"
        },
    )


# ---- results --------------------------------------------------------------------------------


class NewsItemViewSchema(Schema):
    id = fields.String()
    title = fields.String()
    text = fields.String()
    rubrics = fields.List(fields.String())
    meeting_link = fields.String(allow_none=True)
    publish_at = fields.String()
    state = fields.String(
        metadata={"description": "scheduled, published or withdrawn (the public sees published items only)"}
    )
    version = fields.Integer(metadata={"description": "1 when created, one more at every edit or withdrawal"})
    created_at = fields.String()
    updated_at = fields.String()
    withdrawn_at = fields.String(allow_none=True)
    withdraw_reason = fields.String(allow_none=True, metadata={"description": "Moderators only"})


class NewsPageSchema(Schema):
    items = fields.List(
        fields.Nested(NewsItemViewSchema), required=True, metadata={"description": "Newest publication first"}
    )
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass it back as cursor for the next page; null on the last page"}
    )


class NewsVersionViewSchema(Schema):
    version = fields.Integer()
    change = fields.String(metadata={"description": "created, edited or withdrawn"})
    title = fields.String()
    text = fields.String()
    rubrics = fields.List(fields.String())
    meeting_link = fields.String(allow_none=True)
    publish_at = fields.String()
    reason = fields.String(allow_none=True, metadata={"description": "A withdrawal's reason"})
    editor_id = fields.String()
    recorded_at = fields.String()


class NewsHistorySchema(Schema):
    item = fields.Nested(NewsItemViewSchema)
    versions = fields.List(fields.Nested(NewsVersionViewSchema), metadata={"description": "Oldest first"})
