"""A suspended mentor stops (issue #18, part 5), over HTTP on real `nameko run` processes: once a
moderator suspends them they can neither read nor do anything on cases (403 mentor_suspended) nor be
chosen; every case they were chosen for, worked on or were proposed for goes back to matching, which
proposes others; the author is told and picks again. Reinstated, they work again."""

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from tests.support import case_form, eventually

pytestmark = pytest.mark.e2e

RUBRICS = ["urban-educational-projects"]


def _case(platform, path, token):
    return platform.call("GET", path, token=token)


def _file_and_wait_for(platform, token, mentor_id):
    """A personal-mode case whose proposals include ``mentor_id``; returns its path."""
    created = platform.call("POST", "/api/v1/cases", token=token, json=case_form(rubrics=RUBRICS), expect=201)
    path = f"/api/v1/cases/{created['id']}"
    proposed = eventually(
        lambda: _in_state(_case(platform, path, token), "choosing_mentor"), message="mentors proposed"
    )
    assert mentor_id in [p["mentor_id"] for p in proposed["proposed_mentors"]], proposed["proposed_mentors"]
    return path


def _in_state(case, state, after_round=0):
    return case if case["state"] == state and case["round"] > after_round else None


def _told(platform, token, kind):
    return [e for e in platform.call("GET", "/api/v1/inbox", token=token)["items"] if e["kind"] == kind]


def _refused(platform, method, path, token, json=None):
    error = platform.call(method, path, token=token, json=json, expect=403)["error"]
    assert error["code"] == "mentor_suspended", error
    return error


def _status(platform, method, path, token, json=None):
    return requests.request(
        method, f"{platform.base}{path}", json=json, timeout=20, headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_a_suspended_mentor_stops_and_their_cases_go_back_to_matching(platform):
    mentee, mentee_token = platform.person("mentee", "Anna", "Smirnova")
    suspended, suspended_token = platform.mentor("Pavel", "Orlov", RUBRICS)
    other, other_token = platform.mentor("Olga", "Ivanova", RUBRICS)
    moderator = platform.approver()

    working = _file_and_wait_for(platform, mentee_token, suspended["id"])  # accepted, being worked on
    platform.call("POST", f"{working}/mentor", token=mentee_token, json={"mentor_id": suspended["id"]})
    assert platform.call("POST", f"{working}/accept", token=suspended_token)["state"] == "in_progress"
    assert platform.call("GET", f"{working}/author", token=suspended_token)["last_name"] == "Smirnova"  # as yet
    waiting = _file_and_wait_for(platform, mentee_token, suspended["id"])  # chosen, not accepted yet
    platform.call("POST", f"{waiting}/mentor", token=mentee_token, json={"mentor_id": suspended["id"]})
    choosing = _file_and_wait_for(platform, mentee_token, suspended["id"])  # only proposed
    rounds = {path: _case(platform, path, mentee_token)["round"] for path in (working, waiting, choosing)}

    platform.call(
        "POST",
        f"/api/v1/mentors/{suspended['id']}/suspend",
        token=moderator,
        json={"reason": "Complaints about conduct are being reviewed."},
    )

    # every action on cases stops (cases learns the suspension from identity's event within moments)
    eventually(
        lambda: _status(platform, "GET", "/api/v1/cases", suspended_token) == 403,
        message="cases refuses the suspended mentor",
    )
    _refused(platform, "GET", "/api/v1/cases", suspended_token)
    _refused(platform, "GET", working, suspended_token)
    _refused(platform, "GET", f"{working}/author", suspended_token)  # the author card
    _refused(platform, "POST", f"{working}/author", suspended_token, json={"reason": "I need to call her back."})
    _refused(
        platform,
        "POST",
        f"{working}/solutions",
        suspended_token,
        json={"text": "Try a class council.", "materials": []},
    )
    _refused(platform, "POST", f"{working}/messages", suspended_token, json={"text": "Are you there?"})
    _refused(platform, "POST", f"{waiting}/accept", suspended_token)
    _refused(platform, "POST", f"{waiting}/decline", suspended_token, json={"reason": "No."})

    # each case goes back to matching: a new round without them, the author is told and picks again
    for path in (working, waiting, choosing):
        case = eventually(
            lambda: _in_state(_case(platform, path, mentee_token), "choosing_mentor", rounds[path]),
            message=f"a new round for {path}",
        )
        proposed = [p["mentor_id"] for p in case["proposed_mentors"]]
        assert suspended["id"] not in proposed and other["id"] in proposed, proposed
        assert case["mentor_id"] is None
    released = eventually(
        lambda: (lambda told: told if len(told) == 3 else None)(_told(platform, mentee_token, "mentor_released")),
        message="the author is told of all three cases",
    )
    assert {e["case_id"] for e in released} == {path.rsplit("/", 1)[1] for path in (working, waiting, choosing)}
    assert all("choose again" in e["text"] and "Orlov" not in e["text"] for e in released)
    # nor can they be chosen (say, from a list the author loaded before)
    error = platform.call(
        "POST", f"{choosing}/mentor", token=mentee_token, json={"mentor_id": suspended["id"]}, expect=403
    )["error"]
    assert error["code"] == "mentor_suspended" and "mentor_id" in error["fields"], error
    # the author picks another mentor, who works on the case
    platform.call("POST", f"{working}/mentor", token=mentee_token, json={"mentor_id": other["id"]})
    assert platform.call("POST", f"{working}/accept", token=other_token)["state"] == "in_progress"
    history = platform.call("GET", f"{working}/history", token=mentee_token)
    assert "MentorReleased" in [step["type"] for step in history["items"]], history

    # reinstated, they work again
    platform.call("POST", f"/api/v1/mentors/{suspended['id']}/reinstate", token=moderator)
    eventually(
        lambda: _status(platform, "GET", "/api/v1/cases", suspended_token) == 200,
        message="cases lets the reinstated mentor act again",
    )
    platform.call("GET", waiting, token=suspended_token, expect=403)  # released from it: no longer theirs
    with ClusterRpcProxy({"AMQP_URI": platform.test_env.amqp_uri}, timeout=10) as rpc:
        eventually(
            lambda: rpc.matching.get_mentor(suspended["id"])["accredited"], message="matching learns the reinstatement"
        )
    again = _file_and_wait_for(platform, mentee_token, suspended["id"])
    platform.call("POST", f"{again}/mentor", token=mentee_token, json={"mentor_id": suspended["id"]})
    assert platform.call("POST", f"{again}/accept", token=suspended_token)["state"] == "in_progress"
    assert (
        platform.call("POST", f"{again}/messages", token=suspended_token, json={"text": "Hello again."}, expect=201)[
            "state"
        ]
        == "in_progress"
    )
