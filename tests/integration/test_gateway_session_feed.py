"""The gateway checks sessions without a round trip to identity (services/gateway/sessions.py), over
real HTTP: identity and cases, and two gateways on one broker, as two replicas behind a load balancer.

What ends a session one gateway has seen - a sign-out, a password change or reset, at the other
gateway - reaches it as identity's events within 1 s (the issue's bound); an e-mail verified since the
token was issued counts too, and a gateway started later loads both with its one RPC. (That a seen
session costs no RPC at all: test_gateway_without_identity.py.)
"""

import subprocess
import uuid
from urllib.parse import urlsplit

import pytest

from services.cases.service import CasesService
from services.gateway.service import GatewayService
from services.gateway.sessions import SessionFeed
from services.identity.service import IdentityService
from tests.accounts import reset_token, verification_token
from tests.integration.gateway_platform import PASSWORD, Api, assert_error
from tests.support import case_form, eventually, free_port

REVOCATION_BOUND = 1.0  # seconds: "revocations reach it as events within 1 s"
SEEN = ("GET", "/api/v1/question-bank")  # authenticated, and answered by the gateway alone


def start_gateway(start, with_feed=False, **config):
    """A gateway process on a free port; ``(Api, its SessionView)`` once the view is loaded (and its
    SessionFeed third ``with_feed``)."""
    port = free_port()
    container = start(
        GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", CORS_ALLOW_ORIGIN="*", TRUST_FORWARDED_FOR=1, **config
    )
    feed = next(e for e in container.entrypoints if isinstance(e, SessionFeed))
    eventually(lambda: feed.view.live, timeout=30, message="the gateway loaded identity's session revocations")
    api = Api(f"http://127.0.0.1:{port}")
    return (api, feed.view, feed) if with_feed else (api, feed.view)


def close_connection(test_env, connection_name):
    """What a broker restart or a network cut does to one connection (named in its client properties)."""
    vhost = urlsplit(test_env.amqp_uri).path.lstrip("/") or "/"
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "-p", vhost, "pid", "client_properties"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    [pid] = [line.split("\t")[0] for line in listed.splitlines() if connection_name in line]
    subprocess.run(
        ["rabbitmqctl", "-q", "close_connection", pid, "a test cuts the gateway's session feed"],
        capture_output=True,
        timeout=120,
        check=True,
    )


def here():
    return {"X-Forwarded-For": f"203.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 254 + 1}"}


@pytest.fixture(scope="module")
def gateways(start_module_service):
    start_module_service(IdentityService)
    start_module_service(CasesService)
    return start_gateway(start_module_service)[0], start_gateway(start_module_service)[0]


def works(api, token):
    return api(*SEEN, token=token).status_code == 200


def refused_within_the_bound(api, token):
    eventually(
        lambda: api(*SEEN, token=token).status_code == 401,
        timeout=REVOCATION_BOUND,
        interval=0.02,
        message="the other gateway refuses the ended session",
    )
    assert_error(api(*SEEN, token=token), 401, "unauthorized")


def test_a_sign_out_at_one_gateway_is_refused_by_the_other_within_a_second(gateways):
    a, b = gateways
    user, token = a.register()
    other = a.sign_in(user["email"])
    assert works(b, token) and works(b, other)  # seen by b: from now on b asks identity nothing for them
    assert a("POST", "/api/v1/auth/sign-out", token=token).status_code == 200
    assert_error(a(*SEEN, token=token), 401, "unauthorized")  # the gateway that signed out: at once
    refused_within_the_bound(b, token)
    assert works(b, other) and works(a, other)  # another device stays signed in


def test_a_password_change_ends_every_other_session_at_every_gateway(gateways):
    a, b = gateways
    user, token = a.register()
    others = [a.sign_in(user["email"]) for _ in range(2)]
    assert all(works(b, t) for t in [token, *others])
    changed = a(
        "PUT",
        "/api/v1/me/password",
        token=token,
        headers=here(),
        json={"current_password": PASSWORD, "new_password": "a whole new password"},
    )
    assert changed.status_code == 200 and changed.json() == {"revoked_sessions": 2}, changed.text
    for other in others:
        refused_within_the_bound(b, other)
        refused_within_the_bound(a, other)
    assert works(b, token) and works(a, token)


def test_a_password_reset_ends_every_session_at_every_gateway(gateways):
    a, b = gateways
    user, token = a.register()
    assert works(a, token) and works(b, token)
    assert a("POST", "/api/v1/auth/password-reset", json={"email": user["email"]}, headers=here()).status_code == 202
    done = b(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": reset_token(user["email"]), "new_password": "a new passphrase"},
    )
    assert done.status_code == 200 and done.json() == {"revoked_sessions": 1}, done.text
    refused_within_the_bound(a, token)
    refused_within_the_bound(b, token)


def test_a_stale_view_cannot_change_the_password(gateways, start_service):
    """identity checks the session itself before a password change, whatever the gateway believed."""
    a, _ = gateways
    user, token = a.register()
    other = a.sign_in(user["email"])
    lagging, view = start_gateway(start_service)
    assert works(lagging, other)
    assert (
        a(
            "PUT",
            "/api/v1/me/password",
            token=token,
            headers=here(),
            json={"current_password": PASSWORD, "new_password": "a whole new password"},
        ).status_code
        == 200
    )
    refused_within_the_bound(lagging, other)
    view._revoked.clear()  # as if its feed had not delivered the revocation yet
    assert works(lagging, other)  # the stale view lets a read through (that is the 1 s window)...
    changed = lagging(
        "PUT",
        "/api/v1/me/password",
        token=other,
        headers=here(),
        json={"current_password": "a whole new password", "new_password": "taken over at last"},
    )
    assert_error(changed, 401, "unauthorized")  # ...but not the account
    assert a.sign_in(user["email"], "a whole new password")


def test_an_email_verified_after_sign_in_counts_at_every_gateway(gateways):
    a, b = gateways
    user, token = a.register(verify=False)
    assert_error(b("POST", "/api/v1/cases", token=token, json=case_form()), 403, "email_not_verified")
    assert (
        a("POST", "/api/v1/auth/email-verification", json={"token": verification_token(user["email"])}).status_code
        == 200
    )
    # the token still says "not verified"; identity's AccountChanged overrides it at both gateways
    for api in (b, a):
        eventually(
            lambda: api("POST", "/api/v1/cases", token=token, json=case_form()).status_code == 201,
            timeout=10,
            message="a case filed with the token issued before the verification",
        )


def test_a_gateway_started_later_loads_what_it_missed(gateways, start_service):
    a, _ = gateways
    user, token = a.register(verify=False)
    assert (
        a("POST", "/api/v1/auth/email-verification", json={"token": verification_token(user["email"])}).status_code
        == 200
    )
    signed_out = a.sign_in(user["email"])
    assert a("POST", "/api/v1/auth/sign-out", token=signed_out).status_code == 200
    late, view = start_gateway(start_service)  # its queue did not exist when those events were published
    assert_error(late(*SEEN, token=signed_out), 401, "unauthorized")
    for _ in range(2):  # the first asks identity; the second believes the token, verified by the snapshot
        assert late("POST", "/api/v1/cases", token=token, json=case_form()).status_code == 201


def test_after_its_connection_is_cut_a_gateway_reloads_and_follows_again(gateways, start_service, test_env):
    a, _ = gateways
    user, token = a.register()
    other = a.sign_in(user["email"])
    b, view, feed = start_gateway(start_service, with_feed=True)
    assert works(b, token) and works(b, other)
    cut = feed.queue_name
    close_connection(test_env, cut)
    # signed out while the gateway's queue may be gone: the snapshot after reconnecting has it
    assert a("POST", "/api/v1/auth/sign-out", token=token).status_code == 200
    eventually(
        lambda: feed.queue_name != cut and view.live,
        timeout=30,
        message="the gateway bound a new queue and loaded identity's state again",
    )
    assert_error(b(*SEEN, token=token), 401, "unauthorized")
    assert works(b, other)
    assert a("POST", "/api/v1/auth/sign-out", token=other).status_code == 200
    refused_within_the_bound(b, other)  # and the new queue carries the events
