"""RPC payloads and results, shared by the gateway (HTTP bodies) and the services.

Every RPC that acts for a person takes ``actor = {"user_id": str, "role": str}`` first;
the service, not the gateway, decides whether that actor may act (the gateway only
authenticates). Services:

cases:         create_case(actor, form) -> CaseView;  get_case(actor, case_id) -> CaseView
               list_cases(actor) -> [CaseSummary];     get_history(actor, case_id) -> [HistoryItem]
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
               question_bank() -> [HintGroup]; get_case_as_of(actor, case_id, {version, at}) -> CaseView
               author_for(actor, case_id) -> {author_id} (the author, moderators, the mentors working
                   on a personal-mode case; Forbidden otherwise: the gate of the author card)
               list_cases(actor, filters=None) -> [CaseSummary] (filters: CaseFilterSchema, moderators)
identity:      register(form) -> UserView;  sign_in({email, password}) -> TokenView
               get_user(actor, user_id) -> UserView
               update_mentor_profile(actor, profile) -> MentorProfileView
               get_mentor_profile(mentor_id) -> MentorProfileView (public)
               list_mentor_profiles(rubric=None) -> [MentorProfileView] (public)
               get_public_profiles(mentor_ids) -> [MentorProfileView] (public; those that exist,
                   in the order asked; the gateway shows proposed mentors with it)
               update_questionnaire(actor, questionnaire) -> QuestionnaireView (mentees only; upsert)
               get_questionnaire(actor) -> QuestionnaireView (one's own; NotFound before the first)
               author_card(author_id, reader_id, case_id) -> AuthorCard (no actor: the gateway calls
                   it only after cases.author_for(actor, case_id) allowed the reader; logs the read)
               questionnaire_reads(actor) -> [QuestionnaireReadView] (who read one's questionnaire,
                   newest first)
notifications: list_inbox(actor) -> [InboxEntryView];  mark_read(actor, entry_id) -> InboxEntryView
library:       list_entries(actor, rubric=None) -> [LibraryEntryView]; get_entry(actor, entry_id) -> LibraryEntryView
every service: health() -> {"service", "status", "database"}
"""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts import vocabulary as v
from contracts.case_form import CaseFormSchema
from contracts.question_bank import HINTS_BY_ID, QUESTION_KINDS
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import not_blank

RubricList = lambda **kw: fields.List(fields.String(validate=validate.OneOf(RUBRIC_SLUGS)), **kw)  # noqa: E731


# ---- requests -------------------------------------------------------------------------

class ActorSchema(Schema):
    user_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(v.ROLES))


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(8, 128), load_only=True)
    role = fields.String(required=True, validate=validate.OneOf(v.SELF_SERVICE_ROLES))
    first_name = fields.String(required=True, validate=[validate.Length(1, 100), not_blank])
    last_name = fields.String(required=True, validate=[validate.Length(1, 100), not_blank])
    patronymic = fields.String(load_default="", validate=validate.Length(max=100))


class SignInSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(1, 128), load_only=True)


class MentorProfileSchema(Schema):
    """The mentor's own profile (seed Figure 1); advisory rubrics drive matching."""
    rubrics = RubricList(required=True, validate=validate.Length(min=1, error="Choose at least one rubric."))
    place_of_work = fields.String(load_default="", validate=validate.Length(max=200))
    institute = fields.String(load_default="", validate=validate.Length(max=200))
    position = fields.String(load_default="", validate=validate.Length(max=200))
    interests = fields.String(load_default="", validate=validate.Length(max=1000))
    links = fields.List(fields.Url(), load_default=list, validate=validate.Length(max=20))
    motto = fields.String(load_default="", validate=validate.Length(max=300))
    accepting_cases = fields.Boolean(load_default=True)


def _unique(values):
    if len(set(values)) != len(values):
        raise ValidationError("Values must not repeat.")


class QuestionnaireSchema(Schema):
    """The mentee's onboarding questionnaire on their professional activity (kept for monitoring;
    a mentor sees it only on a personal-mode case they work on: the author card)."""
    school = fields.String(required=True, validate=validate.Length(max=200),
                           metadata={"description": "The school (educational institution) one works at"})
    subjects = fields.List(fields.String(validate=[validate.Length(1, 60), not_blank]), required=True,
                           validate=validate.Length(max=20), metadata={"description": "Subjects taught"})
    forms_taught = fields.List(fields.Integer(validate=validate.Range(1, 11)), load_default=list,
                               validate=_unique, metadata={"description": "Forms (grades) taught, 1-11"})
    years_of_practice = fields.Integer(required=True, strict=True, validate=validate.Range(0, 60))
    graduation_year = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1950, 2100))
    graduation_institute = fields.String(load_default="", validate=validate.Length(max=200))
    workload_hours_per_week = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 80))


class ChooseMentorSchema(Schema):
    mentor_id = fields.String(required=True, validate=validate.Length(1, 64))


class MaterialSchema(Schema):
    title = fields.String(required=True, validate=[validate.Length(1, 300), not_blank])
    reference = fields.String(required=True, validate=[validate.Length(1, 1000), not_blank],
                              metadata={"description": "A link, or a bibliographic reference"})
    rubrics = RubricList(load_default=list)


class SolutionSchema(Schema):
    text = fields.String(required=True, validate=[validate.Length(1, v.SOLUTION_MAX), not_blank])
    materials = fields.List(fields.Nested(MaterialSchema), load_default=list, validate=validate.Length(max=20))


class ReflectionSchema(Schema):
    """The mentee's reflection sheet, filled on completion; it rates every solution received."""
    problem_solved = fields.String(required=True, validate=validate.OneOf(v.PROBLEM_SOLVED))
    helpfulness = fields.Dict(keys=fields.String(), values=fields.Integer(strict=True, validate=validate.Range(1, 5)),
                              required=True, validate=validate.Length(min=1),
                              metadata={"description": "Solution id -> how helpful it was, 1-5; every solution"})
    actions = fields.String(load_default="", validate=validate.Length(max=v.REFLECTION_TEXT_MAX))
    learned = fields.String(load_default="", validate=validate.Length(max=v.REFLECTION_TEXT_MAX))
    comment = fields.String(load_default="", validate=validate.Length(max=v.REFLECTION_TEXT_MAX))


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


def _one_source(data, **_):
    if bool(data.get("bank_id")) == bool(data.get("text")):
        raise ValidationError("Give either bank_id (a hint of the bank) or text (\"other\"), not both.",
                              "_schema")


class QuestionSchema(Schema):
    bank_id = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(list(HINTS_BY_ID)))
    text = fields.String(load_default=None, allow_none=True, validate=[validate.Length(1, 500), not_blank])
    kind = fields.String(required=True, validate=validate.OneOf(QUESTION_KINDS))

    @validates_schema
    def one_source(self, data, **kwargs):
        _one_source(data)


class AskQuestionsSchema(Schema):
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(1, 10))


class AnswerSchema(Schema):
    question_id = fields.String(required=True, validate=validate.Length(1, 64))
    text = fields.String(required=True, validate=[validate.Length(1, 1000), not_blank])


class AnswerQuestionsSchema(Schema):
    answers = fields.List(fields.Nested(AnswerSchema), required=True, validate=validate.Length(1, 10))


class ShareSchema(Schema):
    colleague_ids = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                                validate=validate.Length(1, 5))


class TextSchema(Schema):
    text = fields.String(required=True, validate=[validate.Length(1, 2000), not_blank])


class ForumPublishSchema(Schema):
    thread_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64),
                              metadata={"description": "Add to this thread; omit to open a new one"})
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))


class AsOfSchema(Schema):
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    at = fields.AwareDateTime(load_default=None, allow_none=True)


class CaseFilterSchema(Schema):
    state = fields.String(load_default=None, allow_none=True)
    rubric = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(RUBRIC_SLUGS))
    urgency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(v.URGENCIES))
    mentor_id = fields.String(load_default=None, allow_none=True)
    waiting_hours = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0),
                                 metadata={"description": "Only cases unchanged for at least this long"})


# ---- results --------------------------------------------------------------------------

class UserViewSchema(Schema):
    id = fields.String()
    email = fields.String()
    role = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    patronymic = fields.String()
    created_at = fields.String()


class TokenViewSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(UserViewSchema)


class MentorProfileViewSchema(Schema):
    """Public: never a mentor's e-mail."""
    mentor_id = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    patronymic = fields.String()
    rubrics = fields.List(fields.String())
    place_of_work = fields.String()
    institute = fields.String()
    position = fields.String()
    interests = fields.String()
    links = fields.List(fields.String())
    motto = fields.String()
    accepting_cases = fields.Boolean()


class QuestionnaireViewSchema(Schema):
    school = fields.String()
    subjects = fields.List(fields.String())
    forms_taught = fields.List(fields.Integer())
    years_of_practice = fields.Integer()
    graduation_year = fields.Integer(allow_none=True)
    graduation_institute = fields.String()
    workload_hours_per_week = fields.Integer(allow_none=True)
    updated_at = fields.String()


class AuthorCardSchema(Schema):
    """The author of a personal-mode case as its mentor (or a moderator) sees them: no e-mail."""
    user_id = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    patronymic = fields.String()
    questionnaire = fields.Nested(QuestionnaireViewSchema, allow_none=True,
                                  metadata={"description": "null until the author has filled it"})


class QuestionnaireReadViewSchema(Schema):
    """One look at the author card, as its author sees it in their log of reads."""
    reader_id = fields.String()
    case_id = fields.String()
    read_at = fields.String()


class ProposedMentorSchema(Schema):
    mentor_id = fields.String()
    matched_rubrics = fields.List(fields.String())
    score = fields.Float()
    profile = fields.Nested(MentorProfileViewSchema, allow_none=True)


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
    outcome = fields.String(metadata={"description": "chosen, accepted, declined"})
    reason = fields.String(allow_none=True)


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
    question_hints = fields.List(fields.Dict(), metadata={
        "description": "For the case's mentor while working on it: the question-hint bank, by group"})
    created_at = fields.String()
    updated_at = fields.String()


class CaseSummarySchema(Schema):
    id = fields.String()
    number = fields.String()
    state = fields.String()
    rubrics = fields.List(fields.String())
    urgency = fields.String()
    mentor_id = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class HistoryItemSchema(Schema):
    version = fields.Integer()
    type = fields.String()
    occurred_at = fields.String()
    actor_role = fields.String(metadata={"description": "author, mentor, colleague or system"})
    revision = fields.Integer()
    changes = fields.Dict(allow_none=True, metadata={"description": "For a redefinition: field -> before/after"})
    data = fields.Dict()


class InboxEntryViewSchema(Schema):
    id = fields.String()
    kind = fields.String()
    case_id = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True)
    text = fields.String()
    created_at = fields.String()
    read_at = fields.String(allow_none=True)


class LibraryEntryViewSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "solved_case"})
    rubrics = fields.List(fields.String())
    urgency = fields.String()
    essence = fields.String()
    actions_taken = fields.String()
    difficulty = fields.String()
    question = fields.String()
    participants = fields.List(fields.String())
    solutions = fields.List(fields.Dict())
    problem_solved = fields.String()
    published_at = fields.String()


class HealthSchema(Schema):
    service = fields.String()
    status = fields.String()
    database = fields.String()
