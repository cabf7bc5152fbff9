"""Signed actors, the pure part (services/common/actors.py): what a token proves and what it does not."""

import time

import pytest

from contracts.errors import Forbidden, Unauthorized
from services.common import actors

KEY = actors.load_signing_key("test-only:unit")
PUBLIC = actors.load_verify_key("test-only:unit")
AUTHOR = {"user_id": "2f0b7c1e-0000-4000-8000-000000000001", "role": "mentee"}


def _token(audience="cases.get_case", expires_in=10, key=KEY, actor=AUTHOR):
    return actors.sign(key, actor, audience, time.time() + expires_in)


def _reason(call):
    with pytest.raises(actors.ActorRefused) as refused:
        call()
    return refused.value.reason, type(refused.value.error)


def test_a_genuine_token_proves_its_actor_for_its_call():
    claims = actors.verify(PUBLIC, _token(), {"cases.get_case"})
    assert (claims["user_id"], claims["role"], claims["aud"]) == (AUTHOR["user_id"], "mentee", "cases.get_case")


@pytest.mark.parametrize(
    "token,reason,error",
    [
        (None, "missing", Unauthorized),
        ("", "missing", Unauthorized),
        ("no-dot", "malformed", Unauthorized),
        ("a.b.c", "malformed", Unauthorized),
        ("!!!.???", "malformed", Unauthorized),
        ("x" * 5000, "malformed", Unauthorized),
    ],
)
def test_a_missing_or_malformed_token_proves_nothing(token, reason, error):
    assert _reason(lambda: actors.verify(PUBLIC, token, {"cases.get_case"})) == (reason, error)


def test_another_key_a_changed_claim_an_expired_or_foreign_token_prove_nothing():
    other = actors.load_signing_key(actors.generate()[0])
    assert _reason(lambda: actors.verify(PUBLIC, _token(key=other), {"cases.get_case"})) == ("forged", Unauthorized)
    body, signature = _token().split(".")
    mentor = actors.sign(
        KEY, {"user_id": AUTHOR["user_id"], "role": "moderator"}, "cases.get_case", time.time() + 10
    ).split(".")[0]
    assert _reason(lambda: actors.verify(PUBLIC, f"{mentor}.{signature}", {"cases.get_case"})) == (
        "forged",
        Unauthorized,
    )
    assert _reason(lambda: actors.verify(PUBLIC, _token(expires_in=-1), {"cases.get_case"})) == (
        "expired",
        Unauthorized,
    )
    assert _reason(lambda: actors.verify(PUBLIC, _token("cases.get_case"), {"cases.withdraw_case"})) == (
        "wrong_audience",
        Forbidden,
    )
    assert _reason(lambda: actors.verify(PUBLIC, _token(expires_in=actors.MAX_LIFETIME + 60), {"cases.get_case"})) == (
        "lifetime_too_long",
        Unauthorized,
    )


def test_only_listed_delegations_accept_a_forwarded_token():
    assert "identity.author_card" in actors.DELEGATIONS["cases.author_for"]
    assert all(rpc.count(".") == 1 for rpc in actors.DELEGATIONS)


def test_a_service_token_proves_only_its_own_service_for_its_call():
    keys = {"notifications": PUBLIC}
    token = actors.sign_service(KEY, "notifications", "identity.contact_for", time.time() + 10)
    assert actors.verify_service(keys, token, "identity.contact_for", {"notifications"})["service"] == "notifications"
    assert _reason(lambda: actors.verify_service(keys, token, "identity.moderator_contacts", {"notifications"})) == (
        "wrong_audience",
        Forbidden,
    )
    as_cases = actors.sign_service(KEY, "cases", "identity.contact_for", time.time() + 10)
    assert _reason(lambda: actors.verify_service(keys, as_cases, "identity.contact_for", {"notifications"})) == (
        "service_not_allowed",
        Forbidden,
    )
    other = actors.load_signing_key(actors.generate()[0])
    forged = actors.sign_service(other, "notifications", "identity.contact_for", time.time() + 10)
    assert _reason(lambda: actors.verify_service(keys, forged, "identity.contact_for", {"notifications"})) == (
        "forged",
        Unauthorized,
    )


def test_actor_position_counts_the_call_arguments():
    class Service:
        def get_case(self, actor, case_id):
            pass

        def author_card(self, token, actor):
            pass

        def contact_for(self, user_id):
            pass

    assert actors.actor_position(Service.get_case) == 0
    assert actors.actor_position(Service.author_card) == 1
    assert actors.actor_position(Service.contact_for) is None


def test_keys_load_from_base64_pem_and_labels():
    private, public = actors.generate()
    assert actors.key_problem("ACTOR_SIGNING_KEY", private) is None
    assert actors.key_problem("ACTOR_VERIFY_KEY", public) is None
    assert actors.key_problem("ACTOR_VERIFY_KEY", "not a key") is not None
    assert actors.key_problem("SERVICE_VERIFY_KEYS", f"notifications={public}") is None
    token = actors.sign(actors.load_signing_key(private), AUTHOR, "a.b", time.time() + 5)
    assert actors.verify(actors.load_verify_key(public), token, {"a.b"})["user_id"] == AUTHOR["user_id"]


def test_production_refuses_the_development_pairs_and_takes_generated_ones():
    from services.common import settings

    production = {"PLATFORM_ENV": "production"}
    dev = {
        "ACTOR_SIGNING_KEY": "dev-only:actors",
        "ACTOR_VERIFY_KEY": "dev-only:actors",
        "SERVICE_SIGNING_KEY": "dev-only:notifications",
        "SERVICE_VERIFY_KEYS": "notifications=dev-only:notifications",
    }
    found = settings.problems(dict(dev, **production), environ={})
    assert sorted(problem.split()[0] for problem in found) == sorted(dev)
    assert not any("dev-only:actors" in p or "dev-only:notifications" in p for p in found)  # never a value
    private, public = actors.generate()
    service_private, service_public = actors.generate()
    real = {
        "ACTOR_SIGNING_KEY": private,
        "ACTOR_VERIFY_KEY": public,
        "SERVICE_SIGNING_KEY": service_private,
        "SERVICE_VERIFY_KEYS": f"notifications={service_public}",
    }
    assert settings.problems(dict(real, **production), environ={}) == []
    # the public key is no secret (shorter than a secret is fine), but it must be a key
    assert settings.problems(dict(real, ACTOR_VERIFY_KEY="0123456789abcdefghij", **production), environ={}) == [
        "ACTOR_VERIFY_KEY is not an Ed25519 key (base64 of its 32 bytes, or PEM)"
    ]
