"""The library service's RPC payloads and results, shared by the gateway (HTTP bodies) and the
services; what several services share (the actor first) is contracts/rpc_common.py's.

library:       list_entries(actor, rubric=None) -> [LibraryEntryView] (solved cases, newest 200)
               search(actor, query) -> {items: [LibraryEntryView], total, total_exact, next_cursor}
                   (LibrarySearchSchema; no q: newest first; q: full-text, best first)
               similar(actor, {text, rubrics, limit}) -> [SimilarItemView] (SimilarRequestSchema)
               get_entry(actor, item_id) -> LibraryEntryView (a solved case or a material)
               add_material(actor, NewMaterial) / edit_item(actor, item_id, LibraryItemEdit) /
                   withdraw_item(actor, item_id, {reason}) -> LibraryEntryView (moderators; 403 otherwise)
               list_threads(actor, rubric=None) -> [ThreadSummary]; get_thread(actor, thread_id) -> ThreadView
               add_post(actor, thread_id, {text, reply_to}, request_key=None) -> ForumPostView
               hide_post(actor, post_id, {reason}) -> ForumPostView (moderators)
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts import vocabulary as v
from contracts.rpc_common import UUID_PATTERN, RubricList
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import not_blank


class LibrarySearchSchema(Schema):
    """A page of the library: newest first, or with ``q`` best first (Russian and English words,
    in any grammatical form; "quotes" for a phrase, ``or``, ``-word`` to exclude)."""

    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "Search words; empty: browse, newest first"},
    )
    rubric = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RUBRIC_SLUGS))
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(v.LIBRARY_KINDS + v.MATERIAL_TYPES),
        metadata={"description": "solved_case, material, or one type of material"},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "next_cursor of the previous page of the same query"},
    )


class SimilarRequestSchema(Schema):
    text = fields.String(
        required=True,
        validate=[validate.Length(1, 3000), not_blank],
        metadata={"description": "The new case's words (essence and question)"},
    )
    rubrics = RubricList(load_default=list)
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))
    author_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=v.ID_MAX),
        metadata={"description": "The case's author: their own items are never suggested"},
    )


class NewMaterialSchema(Schema):
    """A type-2 library material; a link needs its url, a book its reference, an article either."""

    material_type = fields.String(required=True, validate=validate.OneOf(v.MATERIAL_TYPES))
    title = fields.String(required=True, validate=[validate.Length(1, 300), not_blank])
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    url = fields.Url(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"description": "Required for a link; an article needs url or reference"},
    )
    reference = fields.String(
        load_default="",
        validate=validate.Length(max=1000),
        metadata={
            "description": "The bibliographic reference (books, articles): required "
            "for a book; an article needs url or reference"
        },
    )
    rubrics = RubricList(required=True, validate=validate.Length(min=1, error="Choose at least one rubric."))


class LibraryItemEditSchema(Schema):
    """A moderator's edit: only the fields given change (a solved case's text and rubrics, or a
    material's fields)."""

    OPENAPI_RULES = {"minProperties": 1}  # "give at least one field" (not_empty, below), for the OpenAPI
    essence = fields.String(validate=[validate.Length(1, v.ESSENCE_MAX), not_blank])
    actions_taken = fields.String(validate=validate.Length(max=v.ACTIONS_MAX))
    difficulty = fields.String(validate=validate.Length(max=v.DIFFICULTY_MAX))
    question = fields.String(validate=[validate.Length(1, v.QUESTION_MAX), not_blank])
    material_type = fields.String(validate=validate.OneOf(v.MATERIAL_TYPES))
    title = fields.String(validate=[validate.Length(1, 300), not_blank])
    description = fields.String(validate=validate.Length(max=2000))
    url = fields.Url(allow_none=True, validate=validate.Length(max=1000))
    reference = fields.String(validate=validate.Length(max=1000))
    rubrics = RubricList(validate=validate.Length(min=1, error="Choose at least one rubric."))

    @validates_schema
    def not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class ModerationReasonSchema(Schema):
    """Why a moderator withdraws a library item or hides a forum post (kept in the journal)."""

    reason = fields.String(required=True, validate=[validate.Length(1, 1000), not_blank])


class DraftEditSchema(Schema):
    """A moderator's edit of a draft waiting for review: only the texts named change."""

    texts = fields.Dict(
        keys=fields.String(),
        values=fields.String(required=True, validate=validate.Length(max=v.SOLUTION_MAX)),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "A text's path in the draft (its ``texts[].path``: essence, "
            "solutions.0.text...) -> the new text; a path the draft does not have "
            "is a 400 naming texts.<path>, as is a text over its field's limit"
        },
    )


class DraftQuerySchema(Schema):
    state = fields.String(load_default="pending", validate=validate.OneOf(v.PUBLICATION_STATES))


class DraftMarkSchema(Schema):
    start = fields.Integer()
    end = fields.Integer()
    kind = fields.String(
        metadata={
            "description": "replaced (a span the anonymizer replaced, or its placeholder), "
            "name, digits, at, url or date (a token that may still identify "
            "someone)"
        }
    )


class DraftTextSchema(Schema):
    path = fields.String()
    draft = fields.String(metadata={"description": "The impersonal text to be published"})
    draft_marks = fields.List(fields.Nested(DraftMarkSchema))
    original = fields.String(metadata={"description": "Moderators only, while the draft waits: the author's text"})
    original_marks = fields.List(fields.Nested(DraftMarkSchema))


class DraftSummarySchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "solved_case (the library) or forum_post"})
    state = fields.String(metadata={"description": "pending, published, rejected or withdrawn"})
    rubrics = fields.List(fields.String())
    headline = fields.String(metadata={"description": "The start of the draft's question (a forum post's title)"})
    case_id = fields.String(allow_none=True)
    created_at = fields.String()
    decided_at = fields.String(allow_none=True)


class DraftViewSchema(DraftSummarySchema):
    reason = fields.String(metadata={"description": "Why it was rejected or withdrawn"})
    edited_at = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True, metadata={"description": "Moderators only"})
    participants = fields.List(fields.String())
    urgency = fields.String(allow_none=True)
    texts = fields.List(fields.Nested(DraftTextSchema))


class ForumMessageSchema(Schema):
    text = fields.String(required=True, validate=[validate.Length(1, 5000), not_blank])
    reply_to = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "The id of the post of this thread answered", "pattern": UUID_PATTERN},
    )


class LibraryEntryViewSchema(Schema):
    """A library item: a solved case (impersonal) or a material (article, book, link)."""

    id = fields.String()
    kind = fields.String(metadata={"description": "solved_case or material"})
    rubrics = fields.List(fields.String())
    published_at = fields.String()
    edited_at = fields.String(metadata={"description": "When a moderator last edited it, if ever"})
    # a solved case
    urgency = fields.String()
    essence = fields.String()
    actions_taken = fields.String()
    difficulty = fields.String()
    question = fields.String()
    participants = fields.List(fields.String())
    solutions = fields.List(fields.Dict())
    clarifications = fields.List(fields.Dict(), metadata={"description": "The mentor's questions and the answers"})
    problem_solved = fields.String()
    # a material
    material_type = fields.String(metadata={"description": "article, book or link"})
    title = fields.String()
    description = fields.String()
    url = fields.String(allow_none=True)
    reference = fields.String(metadata={"description": "Bibliographic reference"})
    entry_id = fields.String(
        allow_none=True,
        metadata={"description": "The solved case whose solution it was attached to; null when a moderator added it"},
    )
    origin = fields.String(metadata={"description": "solution or moderator"})
    # moderators only
    withdrawn_at = fields.String(metadata={"description": "Moderators only: when it was withdrawn"})
    withdrawn_reason = fields.String(metadata={"description": "Moderators only: why"})


class SimilarItemViewSchema(LibraryEntryViewSchema):
    """A library item like a new case, and why (services/library/similar.py): relevance = 0.6
    text_score + 0.4 rubric_score, never below the floor; score = relevance weighted by the outcome."""

    score = fields.Float(metadata={"description": "relevance + 0.1 (outcome_score - 0.5): what worked first"})
    relevance = fields.Float(metadata={"description": "Absolute relevance, 0..1; nothing below 0.45 is suggested"})
    text_score = fields.Float(
        metadata={
            "description": "Share of the case's significant words the item holds, "
            "0..1 (absolute, not relative to the best match)"
        }
    )
    rubric_score = fields.Float(metadata={"description": "Share of the case's rubrics the item has, 0..1"})
    outcome_score = fields.Float(
        metadata={
            "description": "What its author reported: problem solved and the "
            "solutions' helpfulness, 0..1; 0.5 when unknown"
        }
    )
    matched_rubrics = fields.List(fields.String())
    reasons = fields.List(
        fields.String(validate=validate.OneOf(v.SIMILAR_REASONS)),
        metadata={
            "description": "Why it is suggested: shared_rubrics, similar_words, problem_solved, problem_partly_solved, "
            "helpful_solution"
        },
    )
