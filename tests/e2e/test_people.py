"""People end to end, every service a real `nameko run` process: the demo data of
scripts/platform.py (moderator first, mentors on the roll of mentors, one application waiting),
loaded twice (it is idempotent); sign-out over the real gateway; the account e-mails' links never
reach a log."""

import importlib.util
from urllib.parse import urlsplit

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.accounts import reset_token, verification_token
from tests.processes import ROOT
from tests.support import eventually

pytestmark = pytest.mark.e2e


def _runner():
    spec = importlib.util.spec_from_file_location("mentor_platform_runner", ROOT / "scripts" / "platform.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # it puts scripts/ last on sys.path, where its parts are found
    return importlib.import_module("runner_demo")  # scripts/runner_demo.py: the demo accounts


def test_the_demo_mentors_are_accredited_and_one_application_waits(platform, test_env, monkeypatch):
    runner = _runner()
    monkeypatch.setenv("GATEWAY_ADDRESS", urlsplit(platform.base).netloc)
    monkeypatch.setenv("IDENTITY_DATABASE_URL", test_env.database_url("identity"))
    assert runner.load_demo() == 0
    assert runner.load_demo() == 0  # again: nothing new, nothing refused

    listed = {p["last_name"]: p for p in platform.call("GET", "/api/v1/mentors")["items"]}
    demo = {profile_form["last_name"] for profile_form, _ in runner.DEMO_MENTORS}
    assert demo <= set(listed) and all(listed[name]["accredited"] for name in demo)
    applicant = runner.DEMO_APPLICANT[0]
    assert applicant["last_name"] not in listed

    moderator = platform.call(
        "POST", "/api/v1/auth/sign-in", json={"email": runner.DEMO_MODERATOR["email"], "password": runner.DEMO_PASSWORD}
    )["access_token"]
    waiting = platform.call("GET", "/api/v1/accreditation/applications", token=moderator)["items"]
    assert [a["profile"]["last_name"] for a in waiting] == [applicant["last_name"]]

    with ClusterRpcProxy({"AMQP_URI": test_env.amqp_uri}, timeout=10) as rpc:
        for name in demo:
            eventually(
                lambda: rpc.matching.get_mentor(listed[name]["mentor_id"])["accredited"],
                message=f"matching knows {name} accredited",
            )


def test_sign_out_ends_the_session_at_once(platform):
    user, token = platform.person("mentee", "Vera", "Lebedeva")
    assert platform.call("GET", "/api/v1/me", token=token)["id"] == user["id"]
    platform.call("POST", "/api/v1/auth/sign-out", token=token)
    platform.call("GET", "/api/v1/me", token=token, expect=401)


def test_account_links_and_addresses_stay_out_of_every_log(platform):
    user, token = platform.person("mentee", "Inna", "Volkova")  # registered and verified by its link
    platform.call("POST", "/api/v1/auth/password-reset", json={"email": user["email"]}, expect=202)
    reset = reset_token(user["email"])
    platform.call(
        "POST", "/api/v1/auth/password-reset/confirm", json={"token": reset, "new_password": "a new passphrase"}
    )
    platform.call("GET", "/api/v1/me", token=token, expect=401)
    logs = {name: process.log_text() for name, process in platform.processes.items()}
    assert "password_reset" in logs["identity"] and "email_verified" in logs["identity"]  # the logs were read
    for secret in (verification_token(user["email"]), reset, user["email"]):
        assert [name for name, text in logs.items() if secret in text] == []
