"""Schemas of the moderators' statistics (issues #5, #20): the cases' figures (seed Figure 2, cases
by rubric, and the cases' states, urgencies, years, months, modes, formats, declines, second opinions,
questions by kind, open cases by whose turn it is, and the mentors' first response times), the
registrations per year (seed Table 1), the library's entries by rubric, and the mentors' quality
(services/cases/mentor_quality.py defines each figure).

cases:     statistics(actor, {from, to}) -> CaseStatistics (moderators; 403 otherwise)
           mentor_quality(actor, {sort, order, mentor_id}) -> MentorQualityList (moderators: every mentor;
               a mentor: their own; 403 otherwise)
identity:  registrations_per_year(actor) -> {"items": [RegistrationYear]} (moderators; 403 otherwise)
library:   statistics(actor) -> LibraryStatistics (moderators; 403 otherwise)
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from contracts.vocabulary import ID_MAX

MENTOR_SORTS = (
    "chosen",
    "acceptance_rate",
    "decline_rate",
    "time_to_accept",
    "time_to_first_question",
    "time_to_first_solution",
    "second_opinion_rate",
    "completed",
    "helpfulness_mean",
)


class StatisticsFilterSchema(Schema):
    """The period the cases were filed in, both days included (UTC); either end may be open."""

    filed_from = fields.Date(
        data_key="from",
        load_default=None,
        allow_none=True,
        metadata={"description": "First day (YYYY-MM-DD, UTC) a counted case was filed on"},
    )
    filed_to = fields.Date(
        data_key="to",
        load_default=None,
        allow_none=True,
        metadata={"description": "Last day (YYYY-MM-DD, UTC) a counted case was filed on; not before from"},
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("filed_from") and data.get("filed_to") and data["filed_from"] > data["filed_to"]:
            raise ValidationError("Must not be before 'from'.", "to")


class CountSchema(Schema):
    key = fields.String(required=True)
    count = fields.Integer(required=True)


class RubricCountSchema(Schema):
    number = fields.Integer(required=True, metadata={"description": "The rubric's place in the rubricator"})
    slug = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(
        required=True, metadata={"description": "Cases under this rubric (a case with two rubrics counts under both)"}
    )


class YearCountSchema(Schema):
    year = fields.Integer(required=True)
    count = fields.Integer(required=True)


class MonthCountSchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM (UTC)"})
    count = fields.Integer(required=True)


class DeclinesSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Declines by chosen mentors"})
    cases = fields.Integer(required=True, metadata={"description": "Cases declined at least once"})


class ResponseTimeSchema(Schema):
    cases = fields.Integer(
        required=True, metadata={"description": "Cases a chosen mentor answered (accepted or declined) at least once"}
    )
    median_seconds = fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Median time from choosing a mentor to the first answer of a mentor on the case; "
            "null when no case had an answer"
        },
    )
    p90_seconds = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "90th percentile (continuous, as the median) of the same times"},
    )


class CaseStatisticsSchema(Schema):
    filed_from = fields.String(required=True, allow_none=True, metadata={"description": "The period's first day"})
    filed_to = fields.String(required=True, allow_none=True, metadata={"description": "The period's last day"})
    total = fields.Integer(required=True, metadata={"description": "Cases filed in the period"})
    by_rubric = fields.List(
        fields.Nested(RubricCountSchema),
        required=True,
        metadata={"description": "Every rubric of the rubricator, in its order, zeros included (seed Figure 2)"},
    )
    by_state = fields.List(
        fields.Nested(CountSchema),
        required=True,
        metadata={"description": "Every state of the case journey, in its order, zeros included"},
    )
    by_urgency = fields.List(
        fields.Nested(CountSchema), required=True, metadata={"description": "Every urgency of the form, zeros included"}
    )
    by_year = fields.List(
        fields.Nested(YearCountSchema),
        required=True,
        metadata={"description": "Cases per year filed (UTC), oldest first"},
    )
    by_month = fields.List(
        fields.Nested(MonthCountSchema),
        required=True,
        metadata={"description": "Cases per month filed (UTC), oldest first, months without one left out"},
    )
    by_mode = fields.List(
        fields.Nested(CountSchema), required=True, metadata={"description": "personal and anonymous, zeros included"}
    )
    by_format = fields.List(
        fields.Nested(CountSchema),
        required=True,
        metadata={
            "description": "collective (a mentor asked colleagues) and public (published to the forum), zeros "
            "included; a case may be both, or neither"
        },
    )
    declines = fields.Nested(DeclinesSchema, required=True)
    second_opinions = fields.Integer(
        required=True, metadata={"description": "Cases whose author asked for a second opinion"}
    )
    questions_by_kind = fields.List(
        fields.Nested(CountSchema),
        required=True,
        metadata={"description": "Questions asked (each question, not each round), clarifying and developing"},
    )
    open_by_turn = fields.List(
        fields.Nested(CountSchema),
        required=True,
        metadata={
            "description": "Open cases (neither completed nor withdrawn; an abandoned case is its author's to reopen) "
            "by whose step they wait for: author, mentor, system (the platform) or moderator, zeros "
            "included"
        },
    )
    first_response = fields.Nested(ResponseTimeSchema, required=True)


class LibraryStatisticsSchema(Schema):
    total = fields.Integer(
        required=True, metadata={"description": "Visible library items (solved cases and materials)"}
    )
    by_rubric = fields.List(
        fields.Nested(RubricCountSchema),
        required=True,
        metadata={"description": "Every rubric of the rubricator, in its order, zeros included: items under it"},
    )


# ---- mentor quality (services/cases/mentor_quality.py) ------------------------------------


class MentorQualityQuerySchema(Schema):
    sort = fields.String(
        load_default="chosen",
        validate=validate.OneOf(MENTOR_SORTS),
        metadata={"description": "The figure the mentors are sorted by (a time sorts by its median)"},
    )
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))
    mentor_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, ID_MAX),
        metadata={"description": "Moderators: only this mentor"},
    )


class DurationSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Engagements timed"})
    median_seconds = fields.Float(required=True, allow_none=True)
    p90_seconds = fields.Float(required=True, allow_none=True)


class SolvedSchema(Schema):
    yes = fields.Integer(required=True)
    partly = fields.Integer(required=True)
    no = fields.Integer(required=True)


class MentorRubricQualitySchema(Schema):
    number = fields.Integer(required=True, metadata={"description": "The rubric's place in the rubricator"})
    slug = fields.String(required=True)
    label = fields.String(required=True)
    engagements = fields.Integer(required=True)
    completed = fields.Integer(required=True)
    solved = fields.Nested(SolvedSchema, required=True)
    ratings = fields.Integer(required=True)
    helpfulness_mean = fields.Float(required=True, allow_none=True)


class MentorQualitySchema(Schema):
    mentor_id = fields.String(required=True)
    chosen = fields.Integer(required=True, metadata={"description": "Times chosen by an author"})
    answered = fields.Integer(required=True, metadata={"description": "Accepted, declined or let lapse"})
    accepted = fields.Integer(required=True)
    declined = fields.Integer(required=True)
    lapsed = fields.Integer(required=True, metadata={"description": "Urgent cases escalated past the mentor"})
    acceptance_rate = fields.Float(required=True, allow_none=True, metadata={"description": "accepted / answered"})
    decline_rate = fields.Float(required=True, allow_none=True, metadata={"description": "declined / answered"})
    time_to_accept = fields.Nested(
        DurationSchema, required=True, metadata={"description": "From being chosen to accepting"}
    )
    time_to_first_question = fields.Nested(
        DurationSchema, required=True, metadata={"description": "From accepting to the first question"}
    )
    time_to_first_solution = fields.Nested(
        DurationSchema, required=True, metadata={"description": "From accepting to the first possible solution"}
    )
    with_solution = fields.Integer(
        required=True, metadata={"description": "Cases the mentor proposed a solution on as the first opinion"}
    )
    second_opinions = fields.Integer(required=True)
    second_opinion_rate = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Of those cases, the share whose author asked for a second opinion"},
    )
    completed = fields.Integer(required=True, metadata={"description": "Completed cases with their solution"})
    solved = fields.Nested(SolvedSchema, required=True, metadata={"description": "Reflection outcomes"})
    ratings = fields.Integer(required=True, metadata={"description": "Helpfulness ratings of their solutions"})
    helpfulness_mean = fields.Float(required=True, allow_none=True, metadata={"description": "Mean rating, 1-5"})
    by_rubric = fields.List(
        fields.Nested(MentorRubricQualitySchema),
        required=True,
        metadata={"description": "The rubrics of their cases, in the rubricator's order"},
    )


class MentorQualityListSchema(Schema):
    items = fields.List(fields.Nested(MentorQualitySchema), required=True)


class RegistrationYearSchema(Schema):
    year = fields.Integer(required=True)
    mentees = fields.Integer(required=True, metadata={"description": "Young pedagogues registered that year"})
    mentors = fields.Integer(required=True, metadata={"description": "Mentors registered that year"})
    accredited_mentors = fields.Integer(
        required=True, metadata={"description": "Of those mentors, the ones on the roll of mentors (accredited) now"}
    )


class RegistrationsSchema(Schema):
    items = fields.List(
        fields.Nested(RegistrationYearSchema),
        required=True,
        metadata={
            "description": "Per year of registration (UTC), oldest first, years between without one included "
            "(seed Table 1)"
        },
    )
