"""RPC payloads and results, shared by the gateway (HTTP bodies) and the services.

Every RPC that acts for a person takes ``actor = {"user_id": str, "role": str}`` first;
the service, not the gateway, decides whether that actor may act (the gateway only
authenticates). Services:

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
identity:      register(form) -> UserView
               sign_in({email, password}, client=None) -> TokenView (client: the caller's address;
                   failures are counted per account and per address: TooManyRequests when too many)
               authenticate(token) -> actor (signature, expiry and a live session; Unauthorized
                   otherwise: the gateway asks on every authenticated request)
               sign_out(token) -> Status (revokes the token's session)
               change_password(actor, token, {current_password, new_password}, client=None)
                   -> PasswordChanged (every other session of the user is revoked)
               get_user(actor, user_id) -> UserView
               update_mentor_profile(actor, profile) -> MentorProfileView
               get_mentor_profile(mentor_id) -> MentorProfileView (public; any mentor with a profile)
               list_mentor_profiles(rubric=None) -> [MentorProfileView] (public; accredited mentors only)
               set_mentor_photo(actor, {content_type, data (base64)}) -> PhotoView (mentors)
               get_mentor_photo(mentor_id) -> Photo (public)
               get_availability(actor) / update_availability(actor, availability) -> AvailabilityView
               apply_for_accreditation(actor, {experience, motivation}) -> AccreditationView
               get_accreditation(actor) -> AccreditationView (one's own; mentors)
               list_accreditation_applications(actor, state="pending") -> [ApplicationReview] (moderators)
               approve_application(actor, application_id) / reject_application(actor, application_id,
                   {reason}) -> ApplicationReview (moderators)
               suspend_mentor(actor, mentor_id, {reason}) / reinstate_mentor(actor, mentor_id)
                   -> AccreditationView (moderators)
               get_public_profiles(mentor_ids) -> [MentorProfileView] (public; those that exist,
                   in the order asked; the gateway shows proposed mentors with it)
               update_questionnaire(actor, questionnaire) -> QuestionnaireView (mentees only; upsert)
               get_questionnaire(actor) -> QuestionnaireView (one's own; NotFound before the first)
               author_card(actor, token, case_id, {reason}) -> AuthorCard (the reader is the token's
                   user, their role the stored one; identity asks cases.author_for itself, then records
                   the read in its append-only access audit; a moderator must give a reason)
               access_log(actor, query) -> AccessLogPage (AccessLogQuerySchema; who opened one's
                   identity or questionnaire, on which case, why; newest first)
               questionnaire_reads(actor) -> [QuestionnaireReadView] (the same log, the old shape:
                   newest first; a moderator's id is not shown)
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
identity, for other services only (the gateway never exposes them):
               contact_for(user_id) -> Contact (e-mail and name, to send a notification e-mail)
               moderator_contacts() -> [Contact];  role_of(user_id) -> {user_id, role}
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
matching:      suggest_colleagues(case_id, rubrics, exclude=(), limit=5) -> [ProposedMentor] (no actor: the
                   gateway asks only after cases.get_case(actor, case_id) let the case's mentor see it;
                   SuggestColleaguesSchema); get_mentor(mentor_id); get_proposals(case_id)
every service: health() -> {"service", "status", "database"}
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts import vocabulary as v
from contracts.case_form import CaseFormSchema
from contracts.news import NewsSubscriptionSchema
from contracts.notification_kinds import KIND_NAMES as NOTIFICATION_KINDS
from contracts.question_bank import HINTS_BY_ID, QUESTION_KINDS
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import Moment, not_blank, unique

# An id the services parse as a UUID (uuid.UUID also takes other spellings; this is the one they write).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def RubricList(**kw: Any) -> fields.List[str]:  # noqa: N802 (named as the field classes it stands beside)
    return fields.List(fields.String(validate=validate.OneOf(RUBRIC_SLUGS)), **kw)


# ---- requests -------------------------------------------------------------------------


class ActorSchema(Schema):
    user_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(v.ROLES))


class SessionSchema(ActorSchema):
    """identity.authenticate()'s answer: the actor, and whether the account's e-mail is verified (the
    gateway refuses filing a case before; it passes on only the actor)."""

    email_verified = fields.Boolean(load_default=False)


class AccountStateSchema(ActorSchema):
    """An account whose sessions' claims changed (its e-mail got verified)."""

    email_verified = fields.Boolean(required=True)


class SessionRevocationsSchema(Schema):
    """identity.session_revocations(): what a gateway must know to check tokens by itself, as of the
    outbox's ``position`` - the sessions revoked that have not expired yet, and the accounts changed
    within a token's lifetime (services/gateway/sessions.py)."""

    position = fields.Integer(required=True)
    revoked_sessions = fields.List(fields.String(), required=True)
    accounts = fields.List(fields.Nested(AccountStateSchema), required=True)


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


LINK_TOKEN_RULE = "The token of a link identity e-mailed; a wrong, used or expired one is a 400 naming token."


class EmailVerificationSchema(Schema):
    """The token of the link ``{PUBLIC_WEB_URL}/verify-email?token=...`` sent to a new account."""

    token = fields.String(
        required=True, validate=validate.Length(1, 200), load_only=True, metadata={"description": LINK_TOKEN_RULE}
    )


class PasswordResetRequestSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class PasswordResetSchema(Schema):
    """The token of the link ``{PUBLIC_WEB_URL}/reset-password?token=...`` and the new password (the
    rule of registration)."""

    token = fields.String(
        required=True, validate=validate.Length(1, 200), load_only=True, metadata={"description": LINK_TOKEN_RULE}
    )
    new_password = fields.String(required=True, validate=validate.Length(8, 128), load_only=True)


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


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True,
        validate=validate.Length(1, 128),
        load_only=True,
        metadata={"description": "One's password now: a wrong one is a 400 on this field"},
    )
    new_password = fields.String(
        required=True,
        validate=validate.Length(8, 128),
        load_only=True,
        metadata={"description": "Different from current_password"},
    )

    @validates_schema
    def differs(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("current_password") is not None and data.get("current_password") == data.get("new_password"):
            raise ValidationError("The new password must differ from the current one.", "new_password")


class AwayPeriodSchema(Schema):
    """A period the mentor takes no new cases, both days included."""

    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True, metadata={"description": "Not before starts_on"})

    @validates_schema
    def ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "starts_on" in data and "ends_on" in data and data["starts_on"] > data["ends_on"]:
            raise ValidationError("Must not be before starts_on.", "ends_on")


class AvailabilitySchema(Schema):
    """When and how much a mentor can consult: matching proposes only mentors with room."""

    capacity = fields.Integer(
        load_default=v.DEFAULT_CAPACITY,
        strict=True,
        validate=validate.Range(0, v.MAX_CAPACITY),
        metadata={"description": "How many open cases at once (0: none for now)"},
    )
    away_periods = fields.List(
        fields.Nested(AwayPeriodSchema), load_default=list, validate=validate.Length(max=v.MAX_AWAY_PERIODS)
    )


class AccreditationApplicationSchema(Schema):
    """A mentor's statement to the moderators: private, never on the public profile."""

    experience = fields.String(
        required=True,
        validate=[validate.Length(1, 2000), not_blank],
        metadata={"description": "Teaching and mentoring experience"},
    )
    motivation = fields.String(
        required=True,
        validate=[validate.Length(1, 2000), not_blank],
        metadata={"description": "Why one wants to mentor novice teachers"},
    )


class DecisionReasonSchema(Schema):
    """A moderator's refusal or suspension: the mentor reads the reason."""

    reason = fields.String(required=True, validate=[validate.Length(1, v.DECISION_REASON_MAX), not_blank])


class PhotoUploadSchema(Schema):
    content_type = fields.String(required=True, validate=validate.OneOf(v.PHOTO_TYPES))
    data = fields.String(required=True, metadata={"description": "The image, base64"})


class QuestionnaireSchema(Schema):
    """The mentee's onboarding questionnaire on their professional activity (kept for monitoring;
    a mentor sees it only on a personal-mode case they work on: the author card)."""

    school = fields.String(
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": "The school (educational institution) one works at"},
    )
    subjects = fields.List(
        fields.String(validate=[validate.Length(1, 60), not_blank]),
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "Subjects taught"},
    )
    forms_taught = fields.List(
        fields.Integer(validate=validate.Range(1, 11)),
        load_default=list,
        validate=unique,
        metadata={"description": "Forms (grades) taught, 1-11"},
    )
    years_of_practice = fields.Integer(required=True, strict=True, validate=validate.Range(0, 60))
    graduation_year = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1950, 2100))
    graduation_institute = fields.String(load_default="", validate=validate.Length(max=200))
    workload_hours_per_week = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 80))


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


class ReasonSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


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


class SuggestColleaguesSchema(Schema):
    """matching.suggest_colleagues: who could give an opinion on a case (collective format)."""

    case_id = fields.String(required=True, validate=validate.Length(1, 64))
    rubrics = RubricList(required=True, validate=validate.Length(min=1, error="Give the case's rubrics."))
    # a field of the contract that shadows Schema.exclude in mypy's eyes (marshmallow keeps them apart)
    exclude = fields.List(
        fields.String(validate=validate.Length(1, 64)),
        load_default=list,  # type: ignore[assignment]
        validate=validate.Length(max=100),
    )
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


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
    news = fields.Nested(
        NewsSubscriptionSchema,
        load_default=None,
        allow_none=True,
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


# ---- results --------------------------------------------------------------------------


class UserViewSchema(Schema):
    id = fields.String()
    email = fields.String()
    role = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    patronymic = fields.String()
    created_at = fields.String()
    email_verified = fields.Boolean(
        metadata={
            "description": "The e-mail was confirmed by its one-time link; "
            "until then filing a case and applying for "
            "accreditation are refused (403 email_not_verified)"
        }
    )


class RegistrationAcceptedSchema(Schema):
    """The same answer for a new and an already registered address (the owner of an existing one is
    told by e-mail instead)."""

    status = fields.String(metadata={"description": "verification_sent"})
    email = fields.String()


class EmailVerifiedSchema(Schema):
    verified = fields.Boolean()


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
    accredited = fields.Boolean(
        metadata={
            "description": "On the roll of mentors (approved, not suspended); "
            "only accredited mentors are listed and proposed"
        }
    )
    photo_url = fields.String(allow_none=True, metadata={"description": "null without a photo"})


class PhotoViewSchema(Schema):
    photo_url = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "Bytes"})


class PhotoSchema(Schema):
    """The photo across RPC: bytes as base64."""

    content_type = fields.String()
    data = fields.String()
    etag = fields.String()


class StatusViewSchema(Schema):
    status = fields.String()


class PasswordChangedSchema(Schema):
    revoked_sessions = fields.Integer(metadata={"description": "Other sessions signed out by the change"})


class AwayPeriodViewSchema(Schema):
    starts_on = fields.String()
    ends_on = fields.String()


class AvailabilityViewSchema(Schema):
    """Private: the mentor's own, never on the public profile."""

    capacity = fields.Integer()
    away_periods = fields.List(fields.Nested(AwayPeriodViewSchema))
    updated_at = fields.String(allow_none=True, metadata={"description": "null while the defaults apply"})


class ApplicationViewSchema(Schema):
    id = fields.String()
    state = fields.String(metadata={"description": "pending, approved or rejected"})
    experience = fields.String()
    motivation = fields.String()
    submitted_at = fields.String()
    decided_at = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "The moderator's reason of a rejection"})


class AccreditationViewSchema(Schema):
    """A mentor's place on the roll; private to the mentor and the moderators."""

    mentor_id = fields.String()
    state = fields.String(metadata={"description": "none, pending, accredited, rejected or suspended"})
    reason = fields.String(allow_none=True, metadata={"description": "The reason of the last rejection or suspension"})
    updated_at = fields.String(allow_none=True)
    application = fields.Nested(ApplicationViewSchema, allow_none=True, metadata={"description": "The latest one"})


class ApplicationReviewSchema(ApplicationViewSchema):
    """An application as moderators review it: the statement and the applicant's public profile."""

    mentor_id = fields.String()
    profile = fields.Nested(MentorProfileViewSchema, allow_none=True)


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
    questionnaire = fields.Nested(
        QuestionnaireViewSchema, allow_none=True, metadata={"description": "null until the author has filled it"}
    )


class QuestionnaireReadViewSchema(Schema):
    """One look at the author card, as its author sees it in their log of reads."""

    reader_id = fields.String(allow_none=True, metadata={"description": "The mentor's id; null for a moderator"})
    case_id = fields.String()
    read_at = fields.String()


ACCESS_REASON_MIN = 10  # a moderator's reason for opening an author's identity: a sentence, not "x"
ACCESS_REASON_MAX = 500


class AccessReasonSchema(Schema):
    """Why the reader opens the author card: required of a moderator (cases decides), optional for
    the mentor of a personal-mode case."""

    reason = fields.String(
        load_default="",
        validate=validate.Length(max=ACCESS_REASON_MAX),
        metadata={"description": f"Why you open it; a moderator gives at least {ACCESS_REASON_MIN} characters"},
    )


class AccessLogQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    before = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "The id of the last entry seen: the page after it", "pattern": r"^[1-9][0-9]{0,17}$"},
    )


class AccessLogEntrySchema(Schema):
    """One confidential read of the author's data, as the author sees it: the reader's role, never
    a moderator's identity or anybody's e-mail."""

    id = fields.String()
    reader_role = fields.String(metadata={"description": "mentor or moderator"})
    reader = fields.String(metadata={"description": '"a moderator", or "your mentor"'})
    mentor_id = fields.String(
        allow_none=True, metadata={"description": "The mentor's id (their public profile); null for a moderator"}
    )
    disclosed = fields.List(fields.String(), metadata={"description": "identity, and questionnaire when it was filled"})
    case_id = fields.String()
    reason = fields.String()
    read_at = fields.String()


class AccessLogPageSchema(Schema):
    items = fields.List(fields.Nested(AccessLogEntrySchema), required=True, metadata={"description": "Newest first"})
    next_before = fields.String(
        allow_none=True, metadata={"description": "Pass as ?before= for the next page; null on the last"}
    )


class ProposedMentorSchema(Schema):
    """A proposed mentor and why: shared rubrics, open cases against capacity, the score
    (services/matching/ranking.py documents it)."""

    mentor_id = fields.String()
    matched_rubrics = fields.List(fields.String())
    score = fields.Float()
    load = fields.Integer(metadata={"description": "The mentor's open cases when proposed"})  # type: ignore[assignment]  # as exclude above
    capacity = fields.Integer(metadata={"description": "How many open cases the mentor takes at once"})
    recent_assignments = fields.Integer(
        metadata={
            "description": "Cases the mentor was chosen for lately (MATCHING_RECENT_DAYS); absent on older proposals"
        }
    )
    reasons = fields.List(
        fields.String(validate=validate.OneOf(v.PROPOSAL_REASONS)),
        metadata={
            "description": "Why the mentor came first among mentors of nearly the same score: fewer_recent_cases, "
            "less_recently_proposed; new_to_roll: no answer history yet. Absent on older proposals"
        },
    )
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
        fields.Nested("SimilarItemViewSchema"),
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


class ContactSchema(Schema):
    """Service-to-service only (notification e-mails): never returned by the gateway."""

    user_id = fields.String()
    email = fields.String()
    display_name = fields.String()
    role = fields.String()


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


class HealthSchema(Schema):
    service = fields.String()
    status = fields.String()
    database = fields.String()


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
