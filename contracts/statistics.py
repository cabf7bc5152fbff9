"""Schemas of the moderators' statistics (issue #5): the cases' figures (seed Figure 2, cases by
rubric, and the cases' states, urgencies, years and the mentors' first response times) and the
registrations per year (seed Table 1).

cases:     statistics(actor, {from, to}) -> CaseStatistics (moderators; 403 otherwise)
identity:  registrations_per_year(actor) -> {"items": [RegistrationYear]} (moderators; 403 otherwise)
"""
from marshmallow import Schema, ValidationError, fields, validates_schema


class StatisticsFilterSchema(Schema):
    """The period the cases were filed in, both days included (UTC); either end may be open."""
    filed_from = fields.Date(data_key="from", load_default=None, allow_none=True,
                             metadata={"description": "First day (YYYY-MM-DD, UTC) a counted case was filed on"})
    filed_to = fields.Date(data_key="to", load_default=None, allow_none=True,
                           metadata={"description": "Last day (YYYY-MM-DD, UTC) a counted case was filed on; "
                                                  "not before from"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("filed_from") and data.get("filed_to") and data["filed_from"] > data["filed_to"]:
            raise ValidationError("Must not be before 'from'.", "to")


class CountSchema(Schema):
    key = fields.String(required=True)
    count = fields.Integer(required=True)


class RubricCountSchema(Schema):
    number = fields.Integer(required=True, metadata={"description": "The rubric's place in the rubricator"})
    slug = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True, metadata={
        "description": "Cases under this rubric (a case with two rubrics counts under both)"})


class YearCountSchema(Schema):
    year = fields.Integer(required=True)
    count = fields.Integer(required=True)


class ResponseTimeSchema(Schema):
    cases = fields.Integer(required=True, metadata={
        "description": "Cases a chosen mentor answered (accepted or declined) at least once"})
    median_seconds = fields.Float(required=True, allow_none=True, metadata={
        "description": "Median time from choosing a mentor to the first answer of a mentor on the case; "
                       "null when no case had an answer"})
    p90_seconds = fields.Float(required=True, allow_none=True, metadata={
        "description": "90th percentile (continuous, as the median) of the same times"})


class CaseStatisticsSchema(Schema):
    filed_from = fields.String(required=True, allow_none=True, metadata={"description": "The period's first day"})
    filed_to = fields.String(required=True, allow_none=True, metadata={"description": "The period's last day"})
    total = fields.Integer(required=True, metadata={"description": "Cases filed in the period"})
    by_rubric = fields.List(fields.Nested(RubricCountSchema), required=True, metadata={
        "description": "Every rubric of the rubricator, in its order, zeros included (seed Figure 2)"})
    by_state = fields.List(fields.Nested(CountSchema), required=True, metadata={
        "description": "Every state of the case journey, in its order, zeros included"})
    by_urgency = fields.List(fields.Nested(CountSchema), required=True, metadata={
        "description": "Every urgency of the form, zeros included"})
    by_year = fields.List(fields.Nested(YearCountSchema), required=True, metadata={
        "description": "Cases per year filed (UTC), oldest first"})
    first_response = fields.Nested(ResponseTimeSchema, required=True)


class RegistrationYearSchema(Schema):
    year = fields.Integer(required=True)
    mentees = fields.Integer(required=True, metadata={"description": "Young pedagogues registered that year"})
    mentors = fields.Integer(required=True, metadata={"description": "Mentors registered that year"})
    accredited_mentors = fields.Integer(required=True, metadata={
        "description": "Of those mentors, the ones on the roll of mentors (accredited) now"})


class RegistrationsSchema(Schema):
    items = fields.List(fields.Nested(RegistrationYearSchema), required=True, metadata={
        "description": "Per year of registration (UTC), oldest first, years between without one included "
                       "(seed Table 1)"})
