"""Matching's routes: colleague suggestions for the collective format ("take opinion of a colleague").

A mixin of GatewayService (it has the RPC proxies): the cases service decides who may see
the case, matching ranks the colleagues, identity adds their public profiles.
"""

from contracts.errors import Forbidden, ServiceUnavailable
from services.common.logs import get_logger
from services.gateway.entrypoints import http
from services.gateway.schemas_matching import ColleagueQuerySchema, ColleagueSuggestionListSchema

logger = get_logger()


class MatchingRoutes:
    @http(
        "GET",
        "/api/v1/cases/<case_id>/colleague-suggestions",
        query=ColleagueQuerySchema,
        returns=ColleagueSuggestionListSchema,
        tag="cases",
        summary="For the case's mentor: accredited colleagues advising in the case's rubrics, to ask "
        "for an opinion (needs the author's consent to group discussion)",
    )
    def colleague_suggestions(self, request, actor, case_id, query):
        case = self.cases.get_case(actor, case_id)  # the cases service refuses who may not see it
        if not case.get("mentor_id") or case["mentor_id"] != actor["user_id"]:
            raise Forbidden("Only the case's mentor asks for colleague suggestions.")
        if not case["form"].get("group_discussion_consent"):
            raise Forbidden("The author did not consent to group discussion of this case.")
        exclude = [case["mentor_id"], *(case.get("colleague_ids") or [])]  # those asked already
        suggestions = (
            self.matching.suggest_colleagues(case["id"], case["form"]["rubrics"], exclude, query["limit"]) or []
        )
        return {"items": self._colleagues_with_profiles(suggestions)}

    def _colleagues_with_profiles(self, suggestions):
        if not suggestions:
            return []
        try:
            profiles = self.identity.get_public_profiles([s["mentor_id"] for s in suggestions]) or []
        except ServiceUnavailable as exc:
            logger.warning("profiles_unavailable", reason=exc.message)
            profiles = []
        by_id = profiles if isinstance(profiles, dict) else {p["mentor_id"]: p for p in profiles}
        return [dict(s, profile=by_id.get(s["mentor_id"])) for s in suggestions]
