"""Gateway schemas of the statistics route (services/gateway/routes_statistics.py): the one
document combining the cases' figures and the registrations per year (contracts/statistics.py)."""
from marshmallow import Schema, fields

from contracts.statistics import CaseStatisticsSchema, RegistrationYearSchema


class StatisticsSchema(Schema):
    cases = fields.Nested(CaseStatisticsSchema, required=True, metadata={
        "description": "Cases filed in the period: by rubric (seed Figure 2), state, urgency, year, and the "
                       "time to the first answer of a mentor"})
    registrations = fields.List(fields.Nested(RegistrationYearSchema), required=True, metadata={
        "description": "Mentees and mentors registered per year, all years (seed Table 1)"})
