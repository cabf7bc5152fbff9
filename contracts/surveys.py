"""Surveys (issue #22 part 1): the definition a moderator (or an allowed, accredited mentor) writes, the
answer a person in its audience gives once, and the results its author reads.

A survey's questions get ids in the order written (``q1``, ``q2``, ...); an answer names them. A choice
is answered with the text of one of its options (single: one text; multiple: a list of them), a scale
with a whole number 1-5, a free-text question with text. Which answers fit the survey (a choice offered,
every required question answered, the open period) the library checks against the stored survey
(services/library/surveys.py): those refusals are 400s naming ``answers.<question id>`` or ``survey``.
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import Moment, not_blank, unique

AUDIENCES = ("mentees", "mentors", "both")
AUDIENCE_ROLES = {"mentees": ("mentee",), "mentors": ("mentor",), "both": ("mentee", "mentor")}
QUESTION_KINDS = ("single", "multiple", "scale", "text")
CHOICE_KINDS = ("single", "multiple")
SCALE = (1, 2, 3, 4, 5)
TITLE_MAX = 200
QUESTION_MAX = 500
OPTION_MAX = 200
OPTIONS_MAX = 20
QUESTIONS_MAX = 50
TEXT_ANSWER_MAX = 2000
STATES = ("scheduled", "open", "closed")


def question_id(index: int) -> str:
    """The id of the ``index``-th question (0-based): ``q1``, ``q2``, ..."""
    return f"q{index + 1}"


class SurveyQuestionSchema(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(QUESTION_KINDS),
        metadata={"description": "single or multiple choice, a 1-5 scale, or free text"},
    )
    text = fields.String(required=True, validate=[validate.Length(1, QUESTION_MAX), not_blank])
    required = fields.Boolean(load_default=True)
    options = fields.List(
        fields.String(validate=[validate.Length(1, OPTION_MAX), not_blank]),
        load_default=list,
        validate=[validate.Length(max=OPTIONS_MAX), unique],
        metadata={"description": "A choice's options (2-20, each once); none for a scale or text"},
    )

    @validates_schema
    def _options_fit_the_kind(self, data: dict[str, Any], **_: Any) -> None:
        kind, options = data.get("kind"), data.get("options") or []
        if kind in CHOICE_KINDS and len(options) < 2:
            raise ValidationError("A choice needs at least two options.", "options")
        if kind not in CHOICE_KINDS and options:
            raise ValidationError("Only a choice has options.", "options")


class SurveyDefinitionSchema(Schema):
    """A new survey. ``closes_at`` must be after ``opens_at`` and in the future."""

    title = fields.String(required=True, validate=[validate.Length(1, TITLE_MAX), not_blank])
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    rubrics = fields.List(
        fields.String(validate=validate.OneOf(RUBRIC_SLUGS)),
        load_default=list,
        validate=[validate.Length(max=len(RUBRIC_SLUGS)), unique],
        metadata={
            "description": "Only the mentors advising in one of these rubrics (their profile) and the mentees "
            "interested in one of them (their questionnaire); none: everyone of the audience"
        },
    )
    opens_at = Moment(required=True)
    closes_at = Moment(required=True, metadata={"description": "After opens_at, and in the future"})
    questions = fields.List(
        fields.Nested(SurveyQuestionSchema), required=True, validate=validate.Length(1, QUESTIONS_MAX)
    )

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if "opens_at" in data and "closes_at" in data and data["closes_at"] <= data["opens_at"]:
            raise ValidationError("Must be after opens_at.", "closes_at")


class SurveyAnswerSchema(Schema):
    """``{question id: value}``: an option's text, a list of them, 1-5, or text (checked against the survey)."""

    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(max=QUESTIONS_MAX),
        metadata={
            "description": "By question id (q1, q2, ...): single choice an option's "
            "text, multiple choice a list of them, scale 1-5, text"
        },
    )


class SurveySettingsSchema(Schema):
    mentors_may_create = fields.Boolean(
        required=True, metadata={"description": "Accredited mentors may create surveys too"}
    )


# ---- views ---------------------------------------------------------------------------------


class SurveyQuestionViewSchema(SurveyQuestionSchema):
    id = fields.String(required=True)


class SurveyViewSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    audience = fields.String(required=True)
    rubrics = fields.List(fields.String(), required=True)
    opens_at = fields.String(required=True)
    closes_at = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "scheduled, open or closed"})
    questions = fields.List(fields.Nested(SurveyQuestionViewSchema), required=True)
    created_at = fields.String(required=True)
    own = fields.Boolean(required=True, metadata={"description": "The reader created it"})
    can_answer = fields.Boolean(required=True, metadata={"description": "Open, for the reader, not yet answered"})
    answered = fields.Boolean(required=True)
    responses = fields.Integer(allow_none=True, metadata={"description": "Its author and moderators: answers so far"})


class SurveyListSchema(Schema):
    items = fields.List(fields.Nested(SurveyViewSchema), required=True, metadata={"description": "Newest first"})


class SurveyOptionCountSchema(Schema):
    option = fields.String(required=True)
    count = fields.Integer(required=True)


class SurveyQuestionResultSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)
    answered = fields.Integer(required=True, metadata={"description": "How many answered this question"})
    counts = fields.List(
        fields.Nested(SurveyOptionCountSchema),
        required=True,
        metadata={"description": "Choices: each option; scale: 1-5; text: none"},
    )
    mean = fields.Float(allow_none=True, metadata={"description": "A scale's mean"})
    texts = fields.List(
        fields.String(), required=True, metadata={"description": "Free text, passed through the anonymizer"}
    )


class SurveyResultsSchema(Schema):
    survey = fields.Nested(SurveyViewSchema, required=True)
    responses = fields.Integer(required=True)
    questions = fields.List(fields.Nested(SurveyQuestionResultSchema), required=True)


class AnswerAcceptedSchema(Schema):
    survey_id = fields.String(required=True)
    answered = fields.Boolean(required=True)
