"""The cases service's RPC payloads and results, shared by the gateway (HTTP bodies) and the
services; what several services share (the actor first) is contracts/rpc_common.py's.

cases:         create_case(actor, form) -> CaseView;  get_case(actor, case_id) -> CaseView
               get_history(actor, case_id) -> [HistoryItem]
               choose_mentor(actor, case_id, {mentor_id}) -> CaseView
               accept_case(actor, case_id) -> CaseView
               propose_solution(actor, case_id, {text, materials}) -> CaseView
               complete_case(actor, case_id, reflection) -> CaseView
               decline_case(actor, case_id, {reason}) -> CaseView; withdraw_case(actor, case_id, {reason})
               ask_questions(actor, case_id, {questions}); answer_questions(actor, case_id, {answers})
               keep_request(actor, case_id); redefine_case(actor, case_id, form)
               share_with_colleagues(actor, case_id, {colleague_ids}); add_opinion(actor, case_id, {text})
               publish_to_forum(actor, case_id, {thread_id, title}); send_message(actor, case_id, {text})
               request_second_opinion(actor, case_id) -> CaseView
               reopen_case(actor, case_id) -> CaseView (the author, an abandoned case: where it stood)
               question_bank() -> [HintGroup]; get_case_as_of(actor, case_id, {version, at}) -> CaseView
               author_for(actor, case_id, reason=None) -> {author_id} (the author, moderators, the mentors
                   working on a personal-mode case; Forbidden otherwise: the gate of the author card;
                   a moderator must give a reason of ACCESS_REASON_MIN+ characters, else InvalidInput)
               list_cases(actor, filters=None) -> CaseSummaryPage {items, next_cursor} (filters:
                   CaseFilterSchema; the filters other than cursor and limit are for moderators)
               question_suggestions(actor, case_id, {limit}) -> QuestionSuggestionList (the case's
                   mentor and moderators: learned from similar solved cases, then the hint bank)
               question_suggestion_usage(actor) -> QuestionSuggestionUsage (moderators)
               mentor_quality(actor, query=None) -> MentorQualityList (contracts/statistics.py; moderators
                   every mentor, a mentor their own, anyone else Forbidden)
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts import vocabulary as v
from contracts.case_form import CaseFormSchema
from contracts.question_bank import HINTS_BY_ID, QUESTION_KINDS
from contracts.rpc_common import RubricList
from contracts.rpc_library import SimilarItemViewSchema
from contracts.rpc_matching import ProposedMentorSchema
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import Moment, not_blank


class ChooseMentorSchema(Schema):
    mentor_id = fields.String(required=True, validate=validate.Length(1, 64))


class MaterialSchema(Schema):
    title = fields.String(required=True, validate=[validate.Length(1, v.MATERIAL_TITLE_MAX), not_blank])
    reference = fields.String(
        required=True,
        validate=[validate.Length(1, v.REFERENCE_MAX), not_blank],
        metadata={"description": "A link, or a bibliographic reference"},
    )
    rubrics = RubricList(load_default=list)


class SolutionSchema(Schema):
    text = fields.String(required=True, validate=[validate.Length(1, v.SOLUTION_MAX), not_blank])
    materials = fields.List(fields.Nested(MaterialSchema), load_default=list, validate=validate.Length(max=20))


class ReflectionSchema(Schema):
    """The mentee's reflection sheet, filled on completion; it rates every solution received."""

    problem_solved = fields.String(required=True, validate=validate.OneOf(v.PROBLEM_SOLVED))
    helpfulness = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(strict=True, validate=validate.Range(1, 5)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Solution id -> how helpful it was, 1-5; every solution"},
    )
    actions = fields.String(load_default="", validate=validate.Length(max=v.REFLECTION_TEXT_MAX))
    learned = fields.String(load_default="", validate=validate.Length(max=v.REFLECTION_TEXT_MAX))
    comment = fields.String(load_default="", validate=validate.Length(max=v.REFLECTION_TEXT_MAX))


SUGGESTION_ID_PATTERN = r"^[lb]-[0-9a-f]{16}$"


def _one_source(data: dict[str, Any], **_: Any) -> None:
    if bool(data.get("bank_id")) == bool(data.get("text")):
        raise ValidationError('Give either bank_id (a hint of the bank) or text ("other"), not both.', "_schema")


class QuestionSchema(Schema):
    bank_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(list(HINTS_BY_ID)),
        metadata={"description": "A hint of the question bank; give exactly one of bank_id and text"},
    )
    text = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(1, v.QUESTION_TEXT_MAX), not_blank],
        metadata={"description": 'An own question ("other"); give exactly one of bank_id and text'},
    )
    kind = fields.String(required=True, validate=validate.OneOf(QUESTION_KINDS))
    suggestion_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(SUGGESTION_ID_PATTERN, error="Not a suggestion id."),
        metadata={
            "description": "The question suggestion it was asked from, as is or "
            "edited (GET /api/v1/cases/{id}/question-suggestions); "
            "recorded to measure usefulness"
        },
    )

    @validates_schema
    def one_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        _one_source(data)


class AskQuestionsSchema(Schema):
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(1, 10))


class AnswerSchema(Schema):
    question_id = fields.String(required=True, validate=validate.Length(1, 64))
    text = fields.String(required=True, validate=[validate.Length(1, v.ANSWER_MAX), not_blank])


class AnswerQuestionsSchema(Schema):
    answers = fields.List(fields.Nested(AnswerSchema), required=True, validate=validate.Length(1, 10))


class ShareSchema(Schema):
    colleague_ids = fields.List(
        fields.String(validate=validate.Length(1, 64)), required=True, validate=validate.Length(1, 5)
    )


class TextSchema(Schema):
    text = fields.String(required=True, validate=[validate.Length(1, 2000), not_blank])


class ForumPublishSchema(Schema):
    thread_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "Add to this thread; omit to open a new one"},
    )
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, v.FORUM_TITLE_MAX))


class AsOfSchema(Schema):
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    at = Moment(load_default=None, allow_none=True)


CASE_PAGE_DEFAULT = 50  # cases per page of a case list


CASE_PAGE_MAX = 200


MAX_WAITING_HOURS = 24 * 366 * 100  # a century: any longer wait is no filter at all


class CaseFilterSchema(Schema):
    state = fields.String(load_default=None, allow_none=True)
    rubric = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RUBRIC_SLUGS))
    urgency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(v.URGENCIES))
    mentor_id = fields.String(load_default=None, allow_none=True)
    # bounded: PostgreSQL's interval overflows past ~1.8e8 hours (found by the gateway fuzzer: a 500)
    waiting_hours = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_WAITING_HOURS),
        metadata={"description": "Only cases unchanged for at least this long"},
    )
    flagged = fields.Boolean(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "true: only cases waiting for a moderator (no mentor found, urgent acceptance overdue); "
            "false: only the others"
        },
    )
    cursor = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 200),
        metadata={"description": "next_cursor of the previous page: the page after it"},
    )
    limit = fields.Integer(
        load_default=CASE_PAGE_DEFAULT,
        validate=validate.Range(1, CASE_PAGE_MAX),
        metadata={"description": f"Cases per page (default {CASE_PAGE_DEFAULT}, at most {CASE_PAGE_MAX})"},
    )


class SolutionViewSchema(Schema):
    id = fields.String()
    mentor_id = fields.String()
    text = fields.String()
    materials = fields.List(fields.Nested(MaterialSchema))
    created_at = fields.String()


class QuestionViewSchema(Schema):
    id = fields.String()
    bank_id = fields.String(allow_none=True)
    text = fields.String()
    kind = fields.String()
    asked_by = fields.String()
    asked_at = fields.String()
    answer = fields.String(allow_none=True)
    answered_at = fields.String(allow_none=True)


class OpinionViewSchema(Schema):
    colleague_id = fields.String()
    text = fields.String()
    created_at = fields.String()


class MessageViewSchema(Schema):
    sender_id = fields.String()
    text = fields.String()
    sent_at = fields.String()


class EngagementViewSchema(Schema):
    mentor_id = fields.String()
    round = fields.Integer()
    opinion = fields.Integer(metadata={"description": "1 for the first mentor, 2 for the second opinion"})
    outcome = fields.String(metadata={"description": "chosen, accepted, declined, escalated (no answer in time)"})
    reason = fields.String(allow_none=True)


class FlagViewSchema(Schema):
    reason = fields.String(metadata={"description": ", ".join(v.FLAG_REASONS)})
    round = fields.Integer()
    at = fields.String()


class WaitingViewSchema(Schema):
    """The step the case waits on (services/cases/waiting.py): reminded on a schedule, then expired."""

    step = fields.String(metadata={"description": ", ".join(v.WAITING_STEPS)})
    waits_on = fields.String(metadata={"description": "mentor or mentee"})
    since = fields.String(metadata={"description": "When the wait began"})
    reminders = fields.Integer(metadata={"description": "Reminders sent of this wait"})


class AbandonedViewSchema(Schema):
    step = fields.String(metadata={"description": "The mentee's step that was not taken in time"})
    state = fields.String(metadata={"description": "The state a reopening returns the case to"})
    at = fields.String()


class CaseViewSchema(Schema):
    id = fields.String()
    number = fields.String(metadata={"description": "Unique human-readable case number"})
    state = fields.String()
    version = fields.Integer()
    revision = fields.Integer()
    form = fields.Nested(CaseFormSchema)
    author_id = fields.String(allow_none=True, metadata={"description": "null for a mentor on an anonymous case"})
    round = fields.Integer()
    proposed_mentors = fields.List(fields.Nested(ProposedMentorSchema))
    mentor_id = fields.String(allow_none=True)
    solutions = fields.List(fields.Nested(SolutionViewSchema))
    reflection = fields.Nested(ReflectionSchema, allow_none=True)
    revisions = fields.List(fields.Nested(CaseFormSchema), metadata={"description": "Every revision, oldest first"})
    decision = fields.String(allow_none=True, metadata={"description": "kept or redefined, after the answers"})
    questions = fields.List(fields.Nested(QuestionViewSchema))
    engagements = fields.List(fields.Nested(EngagementViewSchema))
    opinion = fields.Integer(metadata={"description": "2 once a second opinion was asked for"})
    colleague_ids = fields.List(fields.String())
    opinions = fields.List(fields.Nested(OpinionViewSchema))
    forum_thread_ids = fields.List(fields.String())
    messages = fields.List(fields.Nested(MessageViewSchema))
    withdrawn_reason = fields.String(allow_none=True)
    abandoned = fields.Nested(
        AbandonedViewSchema,
        allow_none=True,
        metadata={"description": "While the case is abandoned (its author may reopen it); null otherwise"},
    )
    waiting = fields.Nested(
        WaitingViewSchema,
        allow_none=True,
        metadata={"description": "The step the case waits on now; null when it waits on nobody"},
    )
    publication_consent_withdrawn = fields.Boolean(
        metadata={"description": "The author withdrew consent to publishing the case (library and forum)"}
    )
    flag = fields.Nested(
        FlagViewSchema,
        allow_none=True,
        metadata={"description": "Why the case waits for a moderator now; null when it does not"},
    )
    question_hints = fields.List(
        fields.Dict(),
        metadata={"description": "For the case's mentor while working on it: the question-hint bank, by group"},
    )
    similar = fields.List(
        fields.Nested(SimilarItemViewSchema),
        metadata={
            "description": "Only when the case is filed: similar solved cases and library materials "
            "(empty if the library does not answer)"
        },
    )
    created_at = fields.String()
    updated_at = fields.String()


class CaseSummarySchema(Schema):
    id = fields.String()
    number = fields.String()
    state = fields.String()
    rubrics = fields.List(fields.String())
    urgency = fields.String()
    mentor_id = fields.String(allow_none=True)
    flag_reason = fields.String(
        allow_none=True,
        metadata={"description": f"Why the case waits for a moderator ({', '.join(v.FLAG_REASONS)}); null if not"},
    )
    created_at = fields.String()
    updated_at = fields.String()
    excerpt = fields.String(metadata={"description": "The start of the essence (at most 160 characters)"})
    mode = fields.String(allow_none=True, metadata={"description": "personal or anonymous"})
    turn = fields.String(
        allow_none=True,
        metadata={
            "description": "Whose step the case waits for: author, mentor, system (the platform) or moderator; "
            "null when closed"
        },
    )
    turn_since = fields.String(metadata={"description": "Since when it has been that one's turn"})


class CaseSummaryPageSchema(Schema):
    """cases.list_cases: a page of summaries, newest change first."""

    items = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass it back as cursor for the next page; null on the last page"}
    )


class HistoryItemSchema(Schema):
    version = fields.Integer()
    type = fields.String()
    occurred_at = fields.String()
    actor_role = fields.String(metadata={"description": "author, mentor, colleague or system"})
    revision = fields.Integer()
    changes = fields.Dict(allow_none=True, metadata={"description": "For a redefinition: field -> before/after"})
    data = fields.Dict()


class QuestionSuggestionQuerySchema(Schema):
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class QuestionProvenanceSchema(Schema):
    """Where a learned suggestion comes from: in how many similar solved cases it was asked, how
    many of them were solved (yes, partly, no) and redefined after it; never which cases."""

    cases = fields.Integer(required=True)
    yes = fields.Integer(required=True)
    partly = fields.Integer(required=True)
    no = fields.Integer(required=True)
    redefined = fields.Integer(required=True)


class QuestionSuggestionSchema(Schema):
    id = fields.String(required=True, metadata={"description": "Give it as suggestion_id when asking"})
    source = fields.String(required=True, metadata={"description": "learned (similar solved cases) or bank"})
    text = fields.String(required=True, metadata={"description": "Anonymized"})
    kind = fields.String(required=True)
    bank_id = fields.String(allow_none=True, required=True)
    score = fields.Float(required=True)
    provenance = fields.Nested(QuestionProvenanceSchema, allow_none=True, required=True)


class QuestionSuggestionListSchema(Schema):
    items = fields.List(fields.Nested(QuestionSuggestionSchema), required=True)


class SuggestionUseCountsSchema(Schema):
    as_is = fields.Integer(required=True)
    edited = fields.Integer(required=True)
    completed_cases = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Completed cases that asked from this source, by problem solved (yes, partly, no)"},
    )


class QuestionSuggestionUsageSchema(Schema):
    questions_asked = fields.Integer(required=True)
    learned = fields.Nested(SuggestionUseCountsSchema, required=True)
    bank = fields.Nested(SuggestionUseCountsSchema, required=True)
