"""The moderators' statistics: one document from the cases service (cases by rubric, state,
urgency, year, first response times; seed Figure 2) and identity (registrations per year; seed
Table 1).

A mixin of GatewayService (it has the RPC proxies). Both services refuse anyone but a moderator
(403); the period (``from``/``to``) applies to the cases, the registrations cover every year.
"""
from contracts.statistics import StatisticsFilterSchema
from contracts.validation import schema_of
from services.gateway.entrypoints import http
from services.gateway.schemas_statistics import StatisticsSchema


class StatisticsRoutes:

    @http("GET", "/api/v1/statistics", query=StatisticsFilterSchema, returns=StatisticsSchema, tag="statistics",
          summary="Moderators: cases by rubric, state, urgency and year filed (optionally filed between from and "
                  "to), the time to a mentor's first answer, and registrations per year")
    def statistics(self, request, actor, query):
        # dumped back: the dates cross RPC as ISO strings
        cases = self.cases.statistics(actor, schema_of(StatisticsFilterSchema).dump(query))
        registrations = self.identity.registrations_per_year(actor)
        return {"cases": cases, "registrations": registrations["items"]}
