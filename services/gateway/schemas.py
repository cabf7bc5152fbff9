"""Gateway-only schemas: list envelopes, query strings, the error shape, reference data, health,
and the forum's thread views (library.list_threads / get_thread).

Request bodies and single results reuse the contracts (contracts/rpc_<service>.py, contracts/case_form.py) as they are.
"""

from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.rpc_cases import HistoryItemSchema
from contracts.rpc_identity import MentorProfileViewSchema, QuestionnaireReadViewSchema
from contracts.rpc_library import LibraryEntryViewSchema
from contracts.rpc_notifications import InboxEntryViewSchema
from contracts.rubrics import RUBRIC_SLUGS

# ---- errors -------------------------------------------------------------------------------


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"example": "invalid_input"})
    message = fields.String(required=True)
    # "fields" would shadow Schema.fields, hence the attribute/data_key pair
    field_errors = fields.Dict(
        keys=fields.String(),
        required=True,
        attribute="fields",
        data_key="fields",
        metadata={"description": "Which input was wrong, and why: field name -> messages"},
    )
    details = fields.Dict(keys=fields.String(), metadata={"description": "Extra facts, e.g. the current state"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


# ---- query strings ------------------------------------------------------------------------


class RubricQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busters and the like are ignored

    rubric = fields.String(
        load_default=None,
        validate=validate.OneOf(RUBRIC_SLUGS),
        metadata={"description": "Only items tagged with this rubric (slug)"},
    )


# ---- list envelopes -----------------------------------------------------------------------


class HistoryListSchema(Schema):
    items = fields.List(fields.Nested(HistoryItemSchema), required=True)


class InboxListSchema(Schema):
    items = fields.List(fields.Nested(InboxEntryViewSchema), required=True)


class LibraryEntryListSchema(Schema):
    """A page of the library (library.search): pass ``next_cursor`` back as ``cursor`` for the next."""

    items = fields.List(fields.Nested(LibraryEntryViewSchema), required=True)
    total = fields.Integer(
        metadata={"description": "Matching items, counted up to 500 (a search ranks the 500 most recent matches)"}
    )
    total_exact = fields.Boolean(metadata={"description": "false when more than 500 match ('500+')"})
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page"})


class MentorProfileListSchema(Schema):
    items = fields.List(fields.Nested(MentorProfileViewSchema), required=True)


class QuestionnaireReadListSchema(Schema):
    items = fields.List(
        fields.Nested(QuestionnaireReadViewSchema), required=True, metadata={"description": "Newest first"}
    )


# ---- the forum "What to do? Looking for a way out together" ------------------------------


class ForumAuthorSchema(Schema):
    """Who wrote a message, as readers see it: a role and a pseudonym valid in this thread only."""

    role = fields.String()
    label = fields.String(metadata={"example": "Mentee 2"})
    own = fields.Boolean(metadata={"description": "true on the reader's own messages"})


class ForumPostViewSchema(Schema):
    """A post of a thread: an impersonal case published to it (kind "case": no case id, number,
    author or mentor), or what a signed-in person wrote (kind "message": never a name or e-mail)."""

    id = fields.String()
    kind = fields.String(metadata={"description": "case or message"})
    essence = fields.String()
    question = fields.String()
    rubrics = fields.List(fields.String())
    urgency = fields.String()
    text = fields.String()
    author = fields.Nested(ForumAuthorSchema)
    reply_to = fields.String(allow_none=True)
    hidden = fields.Boolean(metadata={"description": "Moderators only: hidden from everyone else"})
    hidden_reason = fields.String(metadata={"description": "Moderators only"})
    created_at = fields.String()


class ThreadSummarySchema(Schema):
    id = fields.String()
    title = fields.String()
    rubrics = fields.List(fields.String())
    posts_count = fields.Integer()
    created_at = fields.String()
    updated_at = fields.String()


class ThreadViewSchema(Schema):
    id = fields.String()
    title = fields.String()
    rubrics = fields.List(fields.String())
    created_at = fields.String()
    updated_at = fields.String()
    posts = fields.List(fields.Nested(ForumPostViewSchema), metadata={"description": "Oldest first"})


class ThreadSummaryListSchema(Schema):
    items = fields.List(fields.Nested(ThreadSummarySchema), required=True)


# ---- reference data -----------------------------------------------------------------------


class RubricSchema(Schema):
    number = fields.Integer(required=True)
    slug = fields.String(required=True)
    label = fields.String(required=True)
    comment = fields.String(required=True)


class LabelSchema(Schema):
    slug = fields.String(required=True)
    label = fields.String(required=True)


class ReferenceSchema(Schema):
    rubrics = fields.List(fields.Nested(RubricSchema), required=True)
    participants = fields.List(fields.String(), required=True)
    participant_labels = fields.List(
        fields.Nested(LabelSchema),
        required=True,
        metadata={"description": "Every participant slug with its label, in the order of participants"},
    )
    question_kinds = fields.List(
        fields.Nested(LabelSchema),
        required=True,
        metadata={"description": "The two kinds of question a mentor asks (seed 6.2.1.2): clarifying and developing"},
    )
    urgencies = fields.List(fields.String(), required=True)
    modes = fields.List(fields.String(), required=True)
    problem_solved = fields.List(
        fields.String(), required=True, metadata={"description": "Answers of the reflection sheet"}
    )
    registration_roles = fields.List(
        fields.String(), required=True, metadata={"description": "Roles one may register with"}
    )


class HintSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Stable: a question asked from the bank keeps it"})
    text = fields.String(required=True)
    kind = fields.String(
        required=True,
        metadata={"description": "clarifying or developing: the kind a question asked from this hint has"},
    )
    suggestion_id = fields.String(
        required=True,
        metadata={
            "description": "The hint as a suggestion: give it as suggestion_id when asking it, so its use is recorded"
        },
    )


class HintGroupSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "The kind of every hint of the group"})
    hints = fields.List(fields.Nested(HintSchema), required=True)


class QuestionBankSchema(Schema):
    items = fields.List(fields.Nested(HintGroupSchema), required=True)


# ---- operations ---------------------------------------------------------------------------


class StatusSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ServiceStatusSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok, or why not"})
    database = fields.String()
    message = fields.String()


class ReadinessSchema(Schema):
    status = fields.String(required=True)
    services = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceStatusSchema), required=True)
