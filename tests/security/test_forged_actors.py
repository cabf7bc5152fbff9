"""The services believe no forged actor (issue #18, part 3), on real `nameko run` processes.

An attacker holds broker credentials that may send these calls (the admin's here: each service's own
user cannot even send them, tests/security/test_broker_users.py) and a nameko
``ClusterRpcProxy``. Claiming to be a mentee who filed an anonymous case, with no signature, a forged
one, one signed for another call, an expired one or one already used, she reads nothing (not the
author's id, name, record or school) and changes nothing (the case is not withdrawn); each refusal is
in the service's log as ``actor_refused`` with its reason, never with the token. The contact reads that
take no user (``identity.contact_for``, ``moderator_contacts``) answer only notifications, proving
itself with its own key, and each such read is in the person's access log.
"""

import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import Forbidden, Unauthorized
from services.common.actors import ACTOR_KEY, SERVICE_KEY, generate, load_signing_key
from tests.accounts import mentee_with_an_anonymous_case
from tests.actors import service_token, signed_rpc, token
from tests.processes import services_as_own_users
from tests.support import eventually

pytestmark = pytest.mark.timeout(300)

PASSWORD = "correct-horse-battery"
QUESTIONNAIRE = {"school": "School No. 1541", "subjects": ["History"], "forms_taught": [7], "years_of_practice": 1}
REASON = {"reason": "I no longer need help with this case."}


@pytest.fixture(scope="module")
def platform(test_env, tmp_path_factory):
    """identity and cases as real processes, with the session's public actor key, each as its own
    broker user (services/common/broker_users.py); the attacker below holds the admin's."""
    env = test_env.process_env()
    env.pop("PGAPPNAME", None)
    with services_as_own_users(
        test_env, ("identity", "cases"), tmp_path_factory.mktemp("forged-actors"), env
    ) as processes:
        yield processes


@pytest.fixture(scope="module")
def victim(platform, test_env):
    """A verified mentee with a questionnaire and an anonymous case, made through the gateway's role."""
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        return mentee_with_an_anonymous_case(gateway, PASSWORD, QUESTIONNAIRE)


def attacker(test_env, signed_actor=None):
    """A plain ClusterRpcProxy, optionally sending ``signed_actor`` as the actor header."""
    context = {ACTOR_KEY: signed_actor} if signed_actor is not None else None
    return ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=30, context_data=context)


def calls(author, case_id):
    """(service, method, args) of every attack of the issue, each claiming to be the author."""
    return [
        ("cases", "get_case", (author, case_id)),
        ("cases", "get_history", (author, case_id)),
        ("cases", "author_for", (author, case_id)),
        ("cases", "withdraw_case", (author, case_id, REASON)),
        ("identity", "get_user", (author, author["user_id"])),
        ("identity", "get_questionnaire", (author,)),
    ]


def _state(test_env, author, case_id):
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        return gateway.cases.get_case(author, case_id)["state"]


def _refusals(platform, reason):
    return sum(
        line.count('"actor_refused"') for line in platform_log(platform).splitlines() if f'"reason": "{reason}"' in line
    )


def platform_log(platform):
    return "\n".join(process.log_text() for process in platform.values())


def _explain(platform):
    return lambda: "\n".join(f"--- {name}\n{process.tail()}" for name, process in platform.items())


def test_no_signature_reads_and_changes_nothing(platform, victim, test_env):
    author, case_id = victim
    before = _refusals(platform, "missing")
    with attacker(test_env) as rpc:
        for service, method, args in calls(author, case_id):
            with pytest.raises(Unauthorized):
                getattr(getattr(rpc, service), method)(*args)
            # and with the actor as a keyword, too
            with pytest.raises(Unauthorized):
                getattr(getattr(rpc, service), method)(*args[1:], actor=author)
    assert _state(test_env, author, case_id) != "withdrawn"
    eventually(
        lambda: _refusals(platform, "missing") >= before + 2 * len(calls(author, case_id)),
        timeout=30,
        message="every refusal logged as actor_refused (reason missing)",
        explain=_explain(platform),
    )


def test_a_forged_signature_is_refused(platform, victim, test_env):
    author, case_id = victim
    before = _refusals(platform, "forged")
    other_key = load_signing_key(generate()[0])  # not the gateway's
    forged = []
    for service, method, args in calls(author, case_id):
        forged.append(token(author, f"{service}.{method}", key=other_key))
        with attacker(test_env, forged[-1]) as rpc:
            with pytest.raises(Unauthorized):
                getattr(getattr(rpc, service), method)(*args)
    assert _state(test_env, author, case_id) != "withdrawn"
    eventually(
        lambda: _refusals(platform, "forged") >= before + len(forged),
        timeout=30,
        message="forgeries logged",
        explain=_explain(platform),
    )
    log = platform_log(platform)
    assert not any(t in log or t.split(".")[1] in log for t in forged), "a token reached the log"


def test_a_signature_for_another_call_is_refused(platform, victim, test_env):
    """A genuine token, captured from one call, used for another (or for another user)."""
    author, case_id = victim
    for_get_case = token(author, "cases.get_case")
    with attacker(test_env, for_get_case) as rpc:
        with pytest.raises(Forbidden):
            rpc.cases.withdraw_case(author, case_id, REASON)
        with pytest.raises(Forbidden):
            rpc.identity.get_questionnaire(author)
    mentor = {"user_id": str(uuid.uuid4()), "role": "mentor"}
    with attacker(test_env, token(mentor, "cases.withdraw_case")) as rpc:
        with pytest.raises(Forbidden):  # signed for somebody else than the actor claimed
            rpc.cases.withdraw_case(author, case_id, REASON)
    assert _state(test_env, author, case_id) != "withdrawn"
    eventually(
        lambda: _refusals(platform, "wrong_audience") >= 2 and _refusals(platform, "actor_mismatch") >= 1,
        timeout=30,
        message="refusals logged",
        explain=_explain(platform),
    )


def test_an_expired_signature_is_refused(platform, victim, test_env):
    import time

    author, case_id = victim
    expired = token(author, "identity.get_questionnaire", expires_at=time.time() - 1, now=time.time() - 11)
    with attacker(test_env, expired) as rpc:
        with pytest.raises(Unauthorized):
            rpc.identity.get_questionnaire(author)
    eventually(
        lambda: _refusals(platform, "expired") >= 1, timeout=30, message="refusal logged", explain=_explain(platform)
    )


def test_a_replayed_signature_is_refused(platform, victim, test_env):
    author, case_id = victim
    once = token(author, "cases.get_case")
    with attacker(test_env, once) as rpc:
        assert rpc.cases.get_case(author, case_id)["id"] == case_id  # the genuine call
        with pytest.raises(Unauthorized):
            rpc.cases.get_case(author, case_id)  # the same token again
    eventually(
        lambda: _refusals(platform, "replayed") >= 1, timeout=30, message="refusal logged", explain=_explain(platform)
    )


def test_the_gateways_signature_works(platform, victim, test_env):
    """The genuine path: a call signed for it is carried out (forwarding, identity's author card asking
    cases.author_for with the token it received, is in tests/integration/test_audited_access.py)."""
    author, case_id = victim
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        assert gateway.identity.get_questionnaire(author)["school"] == QUESTIONNAIRE["school"]
        assert gateway.cases.get_case(author, case_id)["id"] == case_id


def test_contacts_answer_only_notifications_and_every_read_is_logged(platform, victim, test_env):
    author, _ = victim
    before = _refusals(platform, "missing")
    with attacker(test_env) as rpc:
        with pytest.raises(Unauthorized):
            rpc.identity.contact_for(author["user_id"])
        with pytest.raises(Unauthorized):
            rpc.identity.moderator_contacts()
    not_notifications = load_signing_key(generate()[0])
    for forged in (
        service_token("notifications", "identity.contact_for", key=not_notifications),
        service_token("cases", "identity.contact_for"),  # signed, but not a contact reader
        service_token("notifications", "identity.moderator_contacts"),
    ):  # another call's
        with ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=30, context_data={SERVICE_KEY: forged}) as rpc:
            with pytest.raises((Unauthorized, Forbidden)):
                rpc.identity.contact_for(author["user_id"])
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        assert gateway.identity.access_log(author)["items"] == []  # nothing was read
    genuine = service_token("notifications", "identity.contact_for")
    with ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=30, context_data={SERVICE_KEY: genuine}) as rpc:
        assert rpc.identity.contact_for(author["user_id"])["user_id"] == author["user_id"]
        with pytest.raises(Unauthorized):
            rpc.identity.contact_for(author["user_id"])  # the same token again
    with signed_rpc(test_env.amqp_uri, timeout=60) as gateway:
        log = gateway.identity.access_log(author)["items"]
    assert [(e["reader_role"], e["disclosed"]) for e in log] == [("service", ["contact"])]
    eventually(
        lambda: (
            _refusals(platform, "missing") >= before + 2
            and _refusals(platform, "forged") >= 1
            and _refusals(platform, "service_not_allowed") >= 1
            and _refusals(platform, "wrong_audience") >= 1
            and _refusals(platform, "replayed") >= 1
        ),
        timeout=30,
        message="refusals logged",
        explain=_explain(platform),
    )


def test_a_surveys_audience_answers_only_notifications(platform, victim, test_env):
    """``identity.survey_audience`` (the ids a survey asks) is a read that takes no user: notifications alone."""
    author, _ = victim
    with attacker(test_env) as rpc:
        with pytest.raises(Unauthorized):
            rpc.identity.survey_audience(["mentee"], [])
    for forged in (
        service_token("cases", "identity.survey_audience"),  # signed, but not notifications
        service_token("notifications", "identity.contact_for"),
    ):  # another call's
        with ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=30, context_data={SERVICE_KEY: forged}) as rpc:
            with pytest.raises((Unauthorized, Forbidden)):
                rpc.identity.survey_audience(["mentee"], [])
    genuine = service_token("notifications", "identity.survey_audience")
    with ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=30, context_data={SERVICE_KEY: genuine}) as rpc:
        assert author["user_id"] in rpc.identity.survey_audience(["mentee"], [])
