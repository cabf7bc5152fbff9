"""GET /api/v1/cases/<id>/colleague-suggestions and the moderator's flagged list, over real HTTP:
the real gateway, cases and matching (databases of their own) and a stub identity (tokens and
public profiles), on the real broker."""

import uuid

import pytest
import requests
from nameko.rpc import rpc as nameko_rpc

from services.cases.service import CasesService
from services.common.logs import CorrelationContext
from services.common.tokens import TokenSigner
from services.gateway.service import GatewayService
from services.matching.ranking import score
from services.matching.service import MatchingService
from tests.integration.event_helpers import open_broker
from tests.integration.relay_helpers import publish_via_outbox
from tests.support import case_form, eventually, free_port, mentor_snapshot

TOKEN_SECRET = "colleague-suggestions-token-secret-0123456789"
RUBRIC = "digital-technologies"


class IdentityStub:
    name = "identity"
    log = CorrelationContext("identity")

    @nameko_rpc
    def authenticate(self, token):
        return dict(TokenSigner(TOKEN_SECRET, 3600).verify(token), email_verified=True)

    @nameko_rpc
    def get_public_profiles(self, mentor_ids):
        return [
            {"mentor_id": m, "first_name": "Anna", "last_name": f"Colleague-{m[:4]}", "rubrics": [RUBRIC]}
            for m in mentor_ids
            if not m.startswith("d-")
        ]  # d-...: a mentor without a profile

    @nameko_rpc
    def health(self):
        return {"service": "identity", "status": "ok", "database": "ok"}


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    urls = {name: test_env.database_url(f"suggest_{name}") for name in ("cases", "matching", "identity")}
    conn, _ = open_broker(test_env.amqp_uri)  # leftovers of other modules would enter these databases
    for queue in ("matching.case-events", "matching.identity-events", "cases.matching-events"):
        conn.default_channel.queue_purge(queue)
    conn.release()
    port = free_port()
    start_module_service(MatchingService, DATABASE_URL=urls["matching"])
    start_module_service(CasesService, DATABASE_URL=urls["cases"])
    start_module_service(IdentityStub)
    start_module_service(
        GatewayService,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        TOKEN_SECRET=TOKEN_SECRET,
        RPC_TIMEOUT=10,
        CORS_ALLOW_ORIGIN="*",
    )
    session = requests.Session()

    def call(method, path, user=None, expect=200, **kwargs):
        headers = {"Authorization": f"Bearer {TokenSigner(TOKEN_SECRET, 3600).issue(*user, 's-test')}"} if user else {}
        response = session.request(method, f"http://127.0.0.1:{port}{path}", headers=headers, timeout=15, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    call.mentors = lambda *prefixes, **kw: _mentors(test_env, urls["identity"], *prefixes, **kw)
    yield call
    session.close()


def _mentors(test_env, identity_url, *prefixes, rubrics=(RUBRIC,), **overrides):
    ids = [f"{prefix}{uuid.uuid4()}" for prefix in prefixes]
    for mentor_id in ids:
        publish_via_outbox(
            test_env,
            "identity",
            "MentorProfileUpdated",
            mentor_id,
            mentor_snapshot(mentor_id, rubrics, **overrides),
            url=identity_url,
        )
    return ids


def person(role):
    return (str(uuid.uuid4()), role)


def accepted_case(api, mentor_id, mentee, rubrics=(RUBRIC,), **form):
    case = api("POST", "/api/v1/cases", mentee, expect=201, json=case_form(rubrics=list(rubrics), **form))
    path = f"/api/v1/cases/{case['id']}"
    eventually(
        lambda: any(p["mentor_id"] == mentor_id for p in api("GET", path, mentee)["proposed_mentors"]),
        message="mentor proposed",
    )
    api("POST", f"{path}/mentor", mentee, json={"mentor_id": mentor_id})
    api("POST", f"{path}/accept", (mentor_id, "mentor"))
    return path


def test_the_cases_mentor_gets_ranked_colleagues_with_their_profiles(api):
    mentor_id, first, second, unprofiled = api.mentors("a-", "b-", "c-", "d-")
    api.mentors("e-", accredited=False)
    (busy,) = api.mentors("f-", capacity=1, accepting_cases=False)
    mentee = person("mentee")
    path = accepted_case(api, mentor_id, mentee, group_discussion_consent=True)

    found = api("GET", f"{path}/colleague-suggestions?limit=10", (mentor_id, "mentor"))["items"]
    # never the case's mentor; all of one score, in the fair order: those never proposed first (the
    # case's round proposed a-, b- and c-; busy takes no cases), then the id
    assert [s["mentor_id"] for s in found] == [unprofiled, busy, first, second]
    assert found[2] == {
        "mentor_id": first,
        "matched_rubrics": [RUBRIC],
        "score": score(1.0, 0, 3),
        "load": 0,
        "capacity": 3,
        "recent_assignments": 0,
        "reasons": ["new_to_roll"],
        "profile": {
            "mentor_id": first,
            "first_name": "Anna",
            "last_name": f"Colleague-{first[:4]}",
            "rubrics": [RUBRIC],
        },
    }
    assert found[0]["profile"] is None and found[1]["reasons"] == ["less_recently_proposed", "new_to_roll"]
    assert len(api("GET", f"{path}/colleague-suggestions", (mentor_id, "mentor"))["items"]) == 4  # default 5

    api("POST", f"{path}/colleagues", (mentor_id, "mentor"), json={"colleague_ids": [first]})
    again = api("GET", f"{path}/colleague-suggestions?limit=10", (mentor_id, "mentor"))["items"]
    assert [s["mentor_id"] for s in again] == [unprofiled, busy, second]  # one already asked is not suggested again

    error = api("GET", f"{path}/colleague-suggestions?limit=0", (mentor_id, "mentor"), expect=400)["error"]
    assert list(error["fields"]) == ["limit"]


def test_only_the_cases_mentor_and_only_with_the_authors_consent(api):
    rubrics = ["personal-resources"]  # not this module's other mentors'
    (mentor_id,) = api.mentors("a-", rubrics=rubrics)
    mentee = person("mentee")
    consented = accepted_case(api, mentor_id, mentee, rubrics, group_discussion_consent=True)
    for user in (mentee, person("moderator")):
        api("GET", f"{consented}/colleague-suggestions", user, expect=403)
    api("GET", f"{consented}/colleague-suggestions", person("mentor"), expect=403)  # not a participant at all
    api("GET", f"{consented}/colleague-suggestions", expect=401)
    private = accepted_case(api, mentor_id, mentee, rubrics, group_discussion_consent=False)
    error = api("GET", f"{private}/colleague-suggestions", (mentor_id, "mentor"), expect=403)["error"]
    assert "consent" in error["message"]


def test_the_moderator_filters_flagged_cases(api):
    mentee, moderator = person("mentee"), person("moderator")
    nobody = api("POST", "/api/v1/cases", mentee, expect=201, json=case_form(rubrics=["families-at-risk"]))
    flagged = eventually(
        lambda: [c for c in api("GET", "/api/v1/cases?flagged=true", moderator)["items"] if c["id"] == nobody["id"]],
        message="flagged",
    )
    assert flagged[0]["flag_reason"] == "no_mentor_found" and flagged[0]["state"] == "no_mentor_found"
    assert nobody["id"] not in [c["id"] for c in api("GET", "/api/v1/cases?flagged=false", moderator)["items"]]
    assert api("GET", f"/api/v1/cases/{nobody['id']}", moderator)["flag"]["reason"] == "no_mentor_found"
