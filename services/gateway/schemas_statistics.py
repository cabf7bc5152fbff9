"""Gateway schemas of the statistics route (services/gateway/routes_statistics.py): the one
document combining the cases' figures, the registrations per year and the library's items by rubric
(contracts/statistics.py)."""

from marshmallow import Schema, fields

from contracts.statistics import CaseStatisticsSchema, LibraryStatisticsSchema, RegistrationYearSchema


class StatisticsSchema(Schema):
    cases = fields.Nested(
        CaseStatisticsSchema,
        required=True,
        metadata={
            "description": "Cases filed in the period: by rubric (seed Figure 2), state, urgency, year, month, "
            "mode, format, declines, second opinions, questions by kind, open cases by turn, and the "
            "time to the first answer of a mentor"
        },
    )
    registrations = fields.List(
        fields.Nested(RegistrationYearSchema),
        required=True,
        metadata={"description": "Mentees and mentors registered per year, all years (seed Table 1)"},
    )
    library = fields.Nested(
        LibraryStatisticsSchema, required=True, metadata={"description": "The library's visible items by rubric, now"}
    )
