"""A session the gateway has seen costs it no round trip to identity (services/gateway/sessions.py):
with identity stopped, its requests are still served. A session it has not seen is never believed
unasked: identity must answer for it (503 while identity is away). Its own module: no other identity
may be running on the session's broker meanwhile."""

from services.identity.service import IdentityService
from tests.integration.gateway_platform import assert_error
from tests.integration.test_gateway_session_feed import SEEN, start_gateway, works


def test_a_seen_session_needs_no_round_trip_to_identity(start_service):
    identity = start_service(IdentityService)
    api, view = start_gateway(start_service, RPC_TIMEOUT=2)
    user, token = api.register()
    unseen = api.sign_in(user["email"])  # a session of the same user this gateway has not seen used
    assert works(api, token)
    identity.stop()
    assert works(api, token) and works(api, token)
    assert_error(api(*SEEN, token=unseen), 503, "service_unavailable")
    assert view.live
