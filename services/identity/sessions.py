"""What the gateways must learn of sessions, written in the transaction that changes them.

The gateway checks an access token without asking identity (services/gateway/sessions.py): the token
itself says who, which role, whether the e-mail is verified and which session. What the token cannot
say - that its session has ended since, or that the account changed - reaches every gateway as events
from identity's outbox (written here, in the caller's transaction: never a revocation without its
event, nor an event for a revocation rolled back), published by the relay at once (``relay.wake()``):

- ``SessionsRevoked {user_id, session_ids, reason}``: a sign-out, a password change (every other
  session) or a password reset (every session);
- ``AccountChanged {user_id, role, email_verified}``: the e-mail got verified (a link, a reset, the
  operator's command); the account's tokens issued before then are believed as this says.

A gateway that starts (or reconnects) loads the same facts at once with one RPC (``revocations``).
Mentor suspension needs nothing here: the cases service refuses a suspended mentor itself.
"""

from contracts.events import LIST_MAX
from contracts.rpc_identity import SessionRevocationsSchema
from contracts.validation import schema_of
from services.common import outbox
from services.identity import repository

SOURCE = "identity"


def revoked(cur, user_id, session_ids, reason):
    """SessionsRevoked for ``session_ids`` of ``user_id`` (none: nothing), at most LIST_MAX an event."""
    session_ids = list(session_ids)
    for start in range(0, len(session_ids), LIST_MAX):
        outbox.append(
            cur,
            SOURCE,
            "SessionsRevoked",
            user_id,
            {"user_id": str(user_id), "session_ids": session_ids[start : start + LIST_MAX], "reason": reason},
        )
    return len(session_ids)


def email_verified(cur, user_id, changed):
    """AccountChanged for an account whose e-mail ``mark_email_verified`` just confirmed (``changed``
    rows: 0 when it was verified before, then no event)."""
    if not changed:
        return
    user = repository.user_by_id(cur, user_id)
    outbox.append(
        cur,
        SOURCE,
        "AccountChanged",
        user_id,
        {"user_id": str(user["id"]), "role": user["role"], "email_verified": True},
    )


def revocations(cur, token_ttl):
    """What a gateway loads at start: the outbox position these facts are as of, the revoked sessions
    whose tokens may still be presented, and the accounts verified within a token's lifetime."""
    cur.execute("SELECT coalesce(max(position), 0) AS position FROM outbox")
    position = cur.fetchone()["position"]
    return schema_of(SessionRevocationsSchema).dump(
        {
            "position": position,
            "revoked_sessions": repository.revoked_live_sessions(cur),
            "accounts": repository.recently_verified(cur, token_ttl),
        }
    )
