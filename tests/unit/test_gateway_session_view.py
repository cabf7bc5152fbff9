"""The gateway's view of sessions (services/gateway/sessions.py): revoked sessions refused, changed
accounts overriding their tokens' claims, entries forgotten after a token's lifetime. No I/O."""

import pytest

from contracts.envelope import Envelope
from contracts.errors import Unauthorized
from services.gateway.sessions import IDENTITY, LOCAL, SessionView, mode_of

TTL = 3600


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def claims(session_id="s-1", user_id="u-1", role="mentee", email_verified=False):
    return {"user_id": user_id, "role": role, "session_id": session_id, "email_verified": email_verified}


def live_view(clock=None, seen=("s-1", "s-2", "s-3")):
    """A loaded view that has seen the sessions ``seen`` of u-1 confirmed by identity."""
    view = SessionView(TTL, clock or Clock())
    view.load({"position": 0, "revoked_sessions": [], "accounts": []})
    view.live = True
    for session_id in seen:
        view.seen(claims(session_id))
    return view


def test_until_loaded_the_view_answers_nothing_and_identity_is_asked():
    view = SessionView(TTL)
    view.revoke(["s-1"])
    assert view.session(claims("s-1")) is None
    assert view.session(claims("s-2")) is None


def test_a_live_token_is_believed_as_it_says():
    assert live_view().session(claims(email_verified=True)) == {
        "user_id": "u-1",
        "role": "mentee",
        "email_verified": True,
    }


def test_a_session_not_seen_yet_is_asked_of_identity_once():
    view = live_view(seen=())
    assert view.session(claims("s-9")) is None
    view.seen(claims("s-9"))
    assert view.session(claims("s-9"))["user_id"] == "u-1"
    assert view.session(claims("s-9", user_id="u-2")) is None  # another user's token naming that session


def test_a_revocation_wins_over_a_confirmation_whatever_their_order():
    view = live_view(seen=())
    view.revoke(["s-9"])
    view.seen(claims("s-9"))  # identity's answer to a request that started before the sign-out
    with pytest.raises(Unauthorized):
        view.session(claims("s-9"))


def test_a_revoked_session_is_refused_and_the_others_are_not():
    view = live_view()
    view.apply(
        Envelope(
            type="SessionsRevoked",
            source="identity",
            aggregate_id="u-1",
            position=7,
            payload={"user_id": "u-1", "session_ids": ["s-1", "s-2"], "reason": "password_change"},
        )
    )
    for revoked in ("s-1", "s-2"):
        with pytest.raises(Unauthorized, match="session has ended"):
            view.session(claims(revoked))
    assert view.session(claims("s-3"))["user_id"] == "u-1"
    view.revoke(["s-3"])
    with pytest.raises(Unauthorized):
        view.session(claims("s-3"))  # seen live before, revoked now


def test_the_same_event_twice_changes_nothing():
    view = live_view()
    event = Envelope(
        type="SessionsRevoked",
        source="identity",
        aggregate_id="u-1",
        position=7,
        payload={"user_id": "u-1", "session_ids": ["s-1"], "reason": "sign_out"},
    )
    view.apply(event)
    view.apply(event)
    assert len(view) == 4  # s-1 revoked; s-1, s-2, s-3 seen (s-1 refused all the same)


def test_an_account_verified_since_the_token_was_issued_is_verified():
    view = live_view()
    view.apply(
        Envelope(
            type="AccountChanged",
            source="identity",
            aggregate_id="u-1",
            position=9,
            payload={"user_id": "u-1", "role": "mentee", "email_verified": True},
        )
    )
    assert view.session(claims(email_verified=False))["email_verified"] is True
    view.seen(claims("s-7", user_id="u-2"))
    assert view.session(claims("s-7", user_id="u-2", email_verified=False))["email_verified"] is False


def test_an_older_account_state_does_not_override_a_newer_one():
    view = live_view()
    view.account("u-1", "mentee", True, position=9)
    view.load(
        {
            "position": 5,
            "revoked_sessions": [],
            "accounts": [{"user_id": "u-1", "role": "mentee", "email_verified": False}],
        }
    )  # a snapshot older than the event
    assert view.session(claims())["email_verified"] is True


def test_a_snapshot_adds_to_what_the_events_said():
    view = live_view()
    view.revoke(["s-1"])
    view.load({"position": 3, "revoked_sessions": ["s-2"], "accounts": []})
    for revoked in ("s-1", "s-2"):
        with pytest.raises(Unauthorized):
            view.session(claims(revoked))


def test_entries_are_forgotten_after_a_tokens_lifetime():
    clock = Clock()
    view = live_view(clock)
    view.revoke(["s-1"])
    view.account("u-2", "mentor", True, position=1)
    clock.now += TTL - 1
    with pytest.raises(Unauthorized):
        view.session(claims("s-1"))
    clock.now += 2  # every token of that session has expired by now: the gateway refuses it as expired
    assert view.session(claims("s-2")) is None  # its token has expired too, had it still one
    assert len(view) == 0


@pytest.mark.parametrize("setting, mode", [(None, LOCAL), ("", LOCAL), ("local", LOCAL), (" Identity ", IDENTITY)])
def test_the_session_check_setting(setting, mode):
    assert mode_of({"GATEWAY_SESSION_CHECK": setting}) == mode


def test_an_unknown_session_check_setting_is_refused():
    with pytest.raises(ValueError, match="GATEWAY_SESSION_CHECK"):
        mode_of({"GATEWAY_SESSION_CHECK": "cache"})
