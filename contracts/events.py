"""Integration events: the payload contract of every event type, by schema version.

Payloads carry ids (pseudonymous) and the facts a consumer needs, never names,
e-mails or employers. Free case text travels only in CaseCompleted (when the author consented
to publication) and CasePublishedToForum, both to the library, which keeps it as a draft until
a moderator publishes it; the published, impersonal text is in PublicationDecided.
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from contracts import fast_load
from contracts import vocabulary as v
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import schema_of

# Every string of a payload has a maximum length, and so has every list: an event with a 30 MiB
# field is unreadable (parked at once, like an unknown schema version), never an inbox entry or an
# e-mail. The limits are those of the requests the fields come from (contracts/case_form.py,
# contracts/rpc_<service>.py), so the cases service's save-time check (services/cases/outgoing.py) refuses a
# command that would produce more; ids and slugs are short; a list holds at most what a request may
# (the gateway takes at most 1000 items per array).
LIST_MAX = 1000
SLUG_MAX = 64  # closed vocabularies: urgencies, question kinds, participants
CASE_NUMBER_MAX = 32  # "MC-2026-000001"


def _text(limit: int, **kw: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=limit), **kw)


def Id(**kw: Any) -> fields.String:  # noqa: N802 - a field type, named like one
    return _text(v.ID_MAX, **kw)


def Ids(**kw: Any) -> fields.List[str]:  # noqa: N802
    return fields.List(Id(), validate=validate.Length(max=LIST_MAX), **kw)


def Slug(**kw: Any) -> fields.String:  # noqa: N802
    return _text(SLUG_MAX, **kw)


def Rubrics(**kw: Any) -> fields.List[str]:  # noqa: N802
    return fields.List(
        fields.String(validate=validate.OneOf(RUBRIC_SLUGS)), validate=validate.Length(max=LIST_MAX), **kw
    )


class _Payload(Schema):
    """Payloads are strict: an unknown field means a contract mismatch."""


class CaseRef(_Payload):
    case_id = Id(required=True)
    case_number = _text(CASE_NUMBER_MAX, required=True)


class CaseCreatedV1(CaseRef):
    rubrics = Rubrics(required=True)
    urgency = fields.String(required=True, validate=validate.OneOf(v.URGENCIES))
    mode = fields.String(required=True, validate=validate.OneOf(v.MODES))
    participants = fields.List(Slug(), required=True, validate=validate.Length(max=LIST_MAX))


class MentorsProposedV1(CaseRef):
    round = fields.Integer(required=True)
    author_id = Id(required=True)
    mentor_ids = Ids(required=True)


class MentorChosenV1(CaseRef):
    round = fields.Integer(required=True)
    mentor_id = Id(required=True)


class MentorAcceptedV1(CaseRef):
    mentor_id = Id(required=True)
    author_id = Id(required=True)


class SolutionProposedV1(CaseRef):
    solution_id = Id(required=True)
    mentor_id = Id(required=True)
    author_id = Id(required=True)


class NextRoundV1(CaseRef):
    """Asks matching for another round of proposals, without the excluded mentors."""

    author_id = Id(required=True)
    next_round = fields.Integer(required=True)
    rubrics = Rubrics(required=True)
    excluded_mentor_ids = Ids(required=True)


class MentorDeclinedV1(NextRoundV1):
    mentor_id = Id(required=True)


class SecondOpinionRequestedV1(NextRoundV1):
    pass


class CaseWithdrawnV1(CaseRef):
    mentor_id = Id(required=True, allow_none=True)


class QuestionsAskedV1(CaseRef):
    author_id = Id(required=True)
    mentor_id = Id(required=True)
    count = fields.Integer(required=True)


class ToMentorV1(CaseRef):
    """A step of the author's that the mentor waits for."""

    mentor_id = Id(required=True)


class CaseRedefinedV1(ToMentorV1):
    revision = fields.Integer(required=True)
    rubrics = Rubrics(required=True)


class CaseSharedWithColleaguesV1(CaseRef):
    mentor_id = Id(required=True)
    colleague_ids = Ids(required=True)


class ColleagueOpinionAddedV1(ToMentorV1):
    colleague_id = Id(required=True)


class MessageSentV1(CaseRef):
    sender_id = Id(required=True)
    recipient_id = Id(required=True)


class MaterialV1(_Payload):
    title = _text(v.MATERIAL_TITLE_MAX, required=True)
    reference = _text(v.REFERENCE_MAX, required=True)
    rubrics = Rubrics(load_default=list)


class ForumPostV1(_Payload):
    """The impersonal case for the forum: no case id, number, author or mentor."""

    thread_id = Id(required=True, allow_none=True)
    title = _text(v.FORUM_TITLE_MAX, required=True)
    essence = _text(v.ESSENCE_MAX, required=True)
    question = _text(v.QUESTION_MAX, required=True)
    rubrics = Rubrics(required=True)
    urgency = Slug(required=True)


class ForumPostV2(ForumPostV1):
    """v2: the case (id and number), its author, so the library's draft can be previewed (and
    withdrawn) by the author, and the mentors who accepted it, who are told it went to the forum
    (notifications); the library publishes none of them."""

    case_id = Id(required=True)
    case_number = _text(CASE_NUMBER_MAX, required=True)
    author_id = Id(required=True)
    mentor_ids = Ids(load_default=list)


class PublishedSolutionV1(_Payload):
    text = _text(v.SOLUTION_MAX, required=True)
    materials = fields.List(fields.Nested(MaterialV1), required=True, validate=validate.Length(max=LIST_MAX))


class ClarificationV1(_Payload):
    question = _text(v.QUESTION_TEXT_MAX, required=True)
    kind = Slug(required=True)
    answer = _text(v.ANSWER_MAX, required=True, allow_none=True)


class PublicationV1(_Payload):
    """The impersonal content of a solved case, for the library."""

    clarifications = fields.List(
        fields.Nested(ClarificationV1), load_default=list, validate=validate.Length(max=LIST_MAX)
    )
    essence = _text(v.ESSENCE_MAX, required=True)
    actions_taken = _text(v.ACTIONS_MAX, required=True)
    difficulty = _text(v.DIFFICULTY_MAX, required=True)
    question = _text(v.QUESTION_MAX, required=True)
    participants = fields.List(Slug(), required=True, validate=validate.Length(max=LIST_MAX))
    rubrics = Rubrics(required=True)
    urgency = Slug(required=True)
    solutions = fields.List(fields.Nested(PublishedSolutionV1), required=True, validate=validate.Length(max=LIST_MAX))


class CaseCompletedV1(CaseRef):
    rubrics = Rubrics(required=True)
    problem_solved = fields.String(required=True, validate=validate.OneOf(v.PROBLEM_SOLVED))
    publication_consent = fields.Boolean(required=True)
    publication = fields.Nested(PublicationV1, allow_none=True, required=True)


class PublicationConsentWithdrawnV1(CaseRef):
    """The author withdrew consent to publishing the case: the library drops its drafts of it (and
    withdraws what was already published)."""

    author_id = Id(required=True)


class PublicationDraftedV1(_Payload):
    """A draft waits for a moderator's review (services/library/review.py); no text."""

    draft_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(v.PUBLICATION_KINDS))
    rubrics = Rubrics(required=True)


class PublishedSolutionV2(PublishedSolutionV1):
    """V1 and how helpful the author found it (the reflection sheet, 1-5; null if unrated)."""

    helpfulness = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 5))


class PublicationV2(PublicationV1):
    solutions = fields.List(fields.Nested(PublishedSolutionV2), required=True, validate=validate.Length(max=LIST_MAX))


class PublishedEntryV1(PublicationV2):
    """A solved case as published (PublicationDecided): the impersonal text, its outcome and each
    solution's helpfulness."""

    problem_solved = fields.String(required=True, validate=validate.OneOf(v.PROBLEM_SOLVED))


class PublicationDecidedV1(_Payload):
    """A decision on a draft, in the library's own log: what ``mentor-research rebuild library``
    replays. ``content`` is the impersonal text as published (``entry`` for a solved case, ``post`` for
    the forum); a rejection or a withdrawal carries none. ``moderator_id`` is None when the decision was
    automatic (LIBRARY_REVIEW=automatic) or the author's (a withdrawn consent)."""

    draft_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(v.PUBLICATION_KINDS))
    source_event_id = Id(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(v.PUBLICATION_DECISIONS))
    moderator_id = Id(required=True, allow_none=True)
    reason = _text(v.DECISION_REASON_MAX, required=True)
    entry = fields.Nested(PublishedEntryV1, required=True, allow_none=True)
    post = fields.Nested(ForumPostV1, required=True, allow_none=True)


class ProposalV1(_Payload):
    """One proposed mentor and why (services/matching/ranking.py): the rubrics they share with
    the case, their open cases (load) against their capacity, and the score. load and capacity
    are optional: proposals recorded before they existed lack them."""

    mentor_id = Id(required=True)
    matched_rubrics = Rubrics(required=True)
    score = fields.Float(required=True)
    load = fields.Integer(validate=validate.Range(min=0))  # type: ignore[assignment]  # a field, not Schema.load
    capacity = fields.Integer(validate=validate.Range(min=0))


class MentorsMatchedV1(_Payload):
    case_id = Id(required=True)
    round = fields.Integer(required=True)
    proposals = fields.List(fields.Nested(ProposalV1), required=True, validate=validate.Length(max=LIST_MAX))


class ProposalV2(ProposalV1):
    """V1 and the fair order's reasons (services/matching/ranking.py): how many cases the mentor
    was chosen for lately, and why they came first among mentors of nearly the same score.
    Optional like load and capacity: matching always sends them, a proposal without them is read
    as saying nothing of them."""

    recent_assignments = fields.Integer(validate=validate.Range(min=0))
    reasons = fields.List(
        fields.String(validate=validate.OneOf(v.PROPOSAL_REASONS)),
        validate=validate.Length(max=len(v.PROPOSAL_REASONS)),
    )


class MentorsMatchedV2(MentorsMatchedV1):
    proposals = fields.List(fields.Nested(ProposalV2), required=True, validate=validate.Length(max=LIST_MAX))


class MentorProfileUpdatedV1(_Payload):
    mentor_id = Id(required=True)
    rubrics = Rubrics(required=True)
    accepting_cases = fields.Boolean(required=True)


class AwayPeriodV1(_Payload):
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)  # inclusive


class MentorProfileUpdatedV2(MentorProfileUpdatedV1):
    """Everything matching needs of a mentor, as one snapshot after any change of profile,
    accreditation or availability (consumers keep the latest by source position)."""

    accredited = fields.Boolean(required=True)  # on the roll and not suspended
    capacity = fields.Integer(required=True, validate=validate.Range(min=0, max=50))  # open cases at once
    away_periods = fields.List(fields.Nested(AwayPeriodV1), required=True, validate=validate.Length(max=LIST_MAX))


class AccreditationRequestedV1(_Payload):
    application_id = Id(required=True)
    mentor_id = Id(required=True)


class AccreditationDecidedV1(_Payload):
    """A moderator's decision on the roll of mentors; the reason is for the mentor to read."""

    mentor_id = Id(required=True)
    application_id = Id(allow_none=True, required=True)  # None for suspend/reinstate
    decision = fields.String(required=True, validate=validate.OneOf(v.ACCREDITATION_DECISIONS))
    reason = _text(v.DECISION_REASON_MAX, required=True)


class CaseEscalatedV1(NextRoundV1):
    """An urgent case's chosen mentor did not accept in time: a new round, moderators alerted."""

    mentor_id = Id(required=True)  # the mentor who did not answer
    urgency = fields.String(required=True, validate=validate.OneOf(v.URGENCIES))


class MentorReleasedV1(NextRoundV1):
    """A mentor may no longer work on the case (suspended from the roll, or erased: ``reason``): a new
    round without them; the author chooses again."""

    mentor_id = Id(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(v.RELEASE_REASONS))


class CaseFlaggedV1(CaseRef):
    """A case that needs a moderator: nobody fits it, an urgent case went unanswered, no proposals
    came, or its mentor's work is overdue."""

    reason = fields.String(required=True, validate=validate.OneOf(v.FLAG_REASONS))
    round = fields.Integer(required=True)


class CaseRemindedV1(CaseRef):
    """A step waited too long for someone: ``recipient_id`` is reminded (the ``number``-th time)."""

    step = fields.String(required=True, validate=validate.OneOf(v.WAITING_STEPS))
    recipient_id = Id(required=True)
    number = fields.Integer(required=True, validate=validate.Range(min=1))


class CaseAbandonedV1(CaseRef):
    """The mentee did not take their step in time: the case is closed as abandoned; its author may
    reopen it. ``mentor_id``: the mentor working on it, if any."""

    author_id = Id(required=True)
    mentor_id = Id(required=True, allow_none=True)
    step = fields.String(required=True, validate=validate.OneOf(v.WAITING_STEPS))


class CaseAuthorErasedV1(CaseRef):
    """The case's author was erased (PersonErased) before the case was finished: it is closed (counted as
    withdrawn). Who waited on it is told: ``mentor_id``, its mentor (chosen, working, or of an abandoned
    case), if any, and ``proposed_mentor_ids``, the mentors of the round the author was choosing from.
    Ids of the others only: nothing of the erased author travels but the case's id and number."""

    mentor_id = Id(required=True, allow_none=True)
    proposed_mentor_ids = Ids(required=True)


class CaseReopenedV1(CaseRef):
    """The author took an abandoned case up again, where it stood."""

    author_id = Id(required=True)
    mentor_id = Id(required=True, allow_none=True)


class SecondOpinionRequestedV2(SecondOpinionRequestedV1):
    """V1, and the mentor whose solution the author wants a second opinion on (told of it; cases
    always sends it, a payload without it names nobody)."""

    mentor_id = Id(allow_none=True, load_default=None)


class CaseCompletedV2(CaseCompletedV1):
    """V1, and the mentors who worked on the case (told it was completed; cases always sends them, a
    payload without them names nobody)."""

    mentor_ids = Ids(load_default=list)


class CaseCompletedV3(CaseCompletedV2):
    """V2, the author (the library's draft is previewed and withdrawn by them; the library keeps the
    author's own case out of their suggestions, and never shows the id) and each published solution's
    helpfulness (what worked ranks first). The cases service always sends both; a hand-made event
    without them reads as unknown (null)."""

    author_id = Id(load_default=None, allow_none=True)
    publication = fields.Nested(PublicationV2, allow_none=True, required=True)


class SessionsRevokedV1(_Payload):
    """Sessions of one account ended (signed out, the password changed or reset): every gateway
    refuses their tokens from now on (services/gateway/sessions.py). Ids only; a password change or
    reset of an account with more sessions than a list holds publishes several events."""

    user_id = Id(required=True)
    session_ids = fields.List(Id(), required=True, validate=validate.Length(max=LIST_MAX))
    reason = fields.String(required=True, validate=validate.OneOf(v.SESSION_END_REASONS))


class AccountChangedV1(_Payload):
    """What a gateway believes of an account's sessions changed (the e-mail got verified): the whole
    state as of the event, which overrides the claims of the tokens issued before it."""

    user_id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(v.ROLES))
    email_verified = fields.Boolean(required=True)


class MenteeInterestsUpdatedV1(_Payload):
    """A mentee saved their questionnaire: its rubrics of interest (none declared: empty), a snapshot after
    every save (consumers keep the latest by source position). Nothing else of the questionnaire travels:
    the library needs the rubrics alone, to tell whom a survey narrowed to rubrics asks."""

    mentee_id = Id(required=True)
    rubrics = Rubrics(required=True)


class PersonErasedV1(_Payload):
    """A person's data was erased (by themselves, or by a moderator on their written request): identity
    deleted their key and closed their account. Every service shreds its own key of the person and its
    copies (services/common/shredding.py), idempotently. The id alone: nothing else of the person travels."""

    person_id = Id(required=True)


class SurveyOpenedV1(_Payload):
    """A survey's open period began (the library announces it once): notifications gives everyone in its
    audience an inbox entry. No title or question travels: the entry names no text anyone wrote."""

    survey_id = Id(required=True)
    audience = fields.String(required=True, validate=validate.OneOf(("mentees", "mentors", "both")))
    rubrics = Rubrics(required=True)
    closes_at = _text(40, required=True)


# (event type, schema version) -> (source service, payload schema class)
EVENTS = {
    ("CaseCreated", 1): ("cases", CaseCreatedV1),
    ("MentorsProposed", 1): ("cases", MentorsProposedV1),
    ("MentorChosen", 1): ("cases", MentorChosenV1),
    ("MentorAccepted", 1): ("cases", MentorAcceptedV1),
    ("SolutionProposed", 1): ("cases", SolutionProposedV1),
    ("CaseCompleted", 1): ("cases", CaseCompletedV1),
    ("PublicationConsentWithdrawn", 1): ("cases", PublicationConsentWithdrawnV1),
    ("PublicationDrafted", 1): ("library", PublicationDraftedV1),
    ("PublicationDecided", 1): ("library", PublicationDecidedV1),
    ("MentorDeclined", 1): ("cases", MentorDeclinedV1),
    ("SecondOpinionRequested", 1): ("cases", SecondOpinionRequestedV1),
    ("CaseWithdrawn", 1): ("cases", CaseWithdrawnV1),
    ("QuestionsAsked", 1): ("cases", QuestionsAskedV1),
    ("QuestionsAnswered", 1): ("cases", ToMentorV1),
    ("RequestKept", 1): ("cases", ToMentorV1),
    ("CaseRedefined", 1): ("cases", CaseRedefinedV1),
    ("CaseSharedWithColleagues", 1): ("cases", CaseSharedWithColleaguesV1),
    ("ColleagueOpinionAdded", 1): ("cases", ColleagueOpinionAddedV1),
    ("MessageSent", 1): ("cases", MessageSentV1),
    ("CasePublishedToForum", 1): ("cases", ForumPostV1),
    ("CasePublishedToForum", 2): ("cases", ForumPostV2),
    ("MentorsMatched", 1): ("matching", MentorsMatchedV1),
    ("MentorsMatched", 2): ("matching", MentorsMatchedV2),
    ("MentorProfileUpdated", 1): ("identity", MentorProfileUpdatedV1),
    ("MentorProfileUpdated", 2): ("identity", MentorProfileUpdatedV2),
    ("AccreditationRequested", 1): ("identity", AccreditationRequestedV1),
    ("AccreditationDecided", 1): ("identity", AccreditationDecidedV1),
    ("SessionsRevoked", 1): ("identity", SessionsRevokedV1),
    ("AccountChanged", 1): ("identity", AccountChangedV1),
    ("MenteeInterestsUpdated", 1): ("identity", MenteeInterestsUpdatedV1),
    ("PersonErased", 1): ("identity", PersonErasedV1),
    ("CaseEscalated", 1): ("cases", CaseEscalatedV1),
    ("CaseFlagged", 1): ("cases", CaseFlaggedV1),
    ("MentorReleased", 1): ("cases", MentorReleasedV1),
    ("CaseReminded", 1): ("cases", CaseRemindedV1),
    ("CaseAbandoned", 1): ("cases", CaseAbandonedV1),
    ("CaseReopened", 1): ("cases", CaseReopenedV1),
    ("CaseAuthorErased", 1): ("cases", CaseAuthorErasedV1),
    ("SecondOpinionRequested", 2): ("cases", SecondOpinionRequestedV2),
    ("CaseCompleted", 2): ("cases", CaseCompletedV2),
    ("CaseCompleted", 3): ("cases", CaseCompletedV3),
    ("SurveyOpened", 1): ("library", SurveyOpenedV1),
}

CURRENT_VERSION: dict[str, int] = {}  # the latest version of each type: what producers emit now
for _type, _version in EVENTS:
    CURRENT_VERSION[_type] = max(_version, CURRENT_VERSION.get(_type, 0))


def payload_schema(event_type: str, schema_version: int) -> Schema | None:
    """The payload schema of a type and version, or None: its class's one instance (``schema_of``)."""
    entry = EVENTS.get((event_type, schema_version))
    return schema_of(entry[1]) if entry else None


class PayloadBreaksContract(ValueError):
    """An outgoing payload its consumers would refuse; ``messages``: marshmallow's, by field."""

    def __init__(self, event_type: str, version: int, messages: Any) -> None:
        super().__init__(f"{event_type} v{version} payload breaks its contract: {messages}")
        self.messages = messages


def _known_schema(event_type: str, version: int) -> Schema:
    """``payload_schema`` of a type and version a producer emits: known, or a bug of the producer."""
    schema = payload_schema(event_type, version)
    assert schema is not None, f"no contract for {event_type} v{version}"
    return schema


def load_outgoing(event_type: str, payload: dict[str, Any], schema_version: int | None = None) -> tuple[int, Any]:
    """(version, the payload as its consumers will load it); PayloadBreaksContract (a ValueError)
    if it breaks its contract."""
    version = schema_version or CURRENT_VERSION[event_type]
    try:
        return version, fast_load.load(_known_schema(event_type, version), payload)
    except ValidationError as exc:
        raise PayloadBreaksContract(event_type, version, exc.messages) from None


def dump_payload(event_type: str, payload: dict[str, Any], schema_version: int | None = None) -> tuple[int, Any]:
    """Validate an outgoing payload against its contract (producers never emit what consumers reject)."""
    version = schema_version or CURRENT_VERSION[event_type]
    schema = _known_schema(event_type, version)
    errors = schema.validate(payload)
    if errors:
        raise PayloadBreaksContract(event_type, version, errors)
    return version, schema.dump(payload)
