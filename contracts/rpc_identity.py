"""The identity service's RPC payloads and results, shared by the gateway (HTTP bodies) and the
services; what several services share (the actor first) is contracts/rpc_common.py's.

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
identity, for other services only (the gateway never exposes them):
               contact_for(user_id) -> Contact (e-mail and name, to send a notification e-mail)
               moderator_contacts() -> [Contact];  role_of(user_id) -> {user_id, role}
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts import vocabulary as v
from contracts.rpc_common import ActorSchema, RubricList
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import not_blank, unique


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


ERASURE_REASON_MIN = 10


class ErasureConfirmationSchema(Schema):
    """``DELETE /api/v1/me``: the person erases their own data, confirming with their password."""

    password = fields.String(
        required=True,
        validate=validate.Length(1, 128),
        load_only=True,
        metadata={"description": "One's password now: a wrong one is a 400 on this field"},
    )


class ErasureReasonSchema(Schema):
    """A moderator erases a person's data on their written request: the reason names the request (its
    reference, never the person's name) and is kept in identity's record of erasures."""

    reason = fields.String(
        required=True,
        validate=[validate.Length(ERASURE_REASON_MIN, v.DECISION_REASON_MAX), not_blank],
        metadata={"description": f"The written request it answers, at least {ERASURE_REASON_MIN} characters"},
    )


class ErasedViewSchema(Schema):
    person_id = fields.String(metadata={"description": "The erased person's id (it stays, for references)"})
    erased = fields.Boolean()
    revoked_sessions = fields.Integer(metadata={"description": "The sessions ended by the erasure"})


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
    rubrics = RubricList(
        load_default=list,
        validate=[validate.Length(max=len(RUBRIC_SLUGS)), unique],
        metadata={
            "description": "Rubrics of interest (any of the rubricator's, none by default): a survey narrowed to "
            "rubrics asks the mentees with one of them; the only part of the questionnaire that leaves identity "
            "(MenteeInterestsUpdated, to the library)"
        },
    )


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
    rubrics = fields.List(fields.String(), metadata={"description": "Rubrics of interest, in the rubricator's order"})
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


class ContactSchema(Schema):
    """Service-to-service only (notification e-mails): never returned by the gateway."""

    user_id = fields.String()
    email = fields.String()
    display_name = fields.String()
    role = fields.String()
