"""Sign-in throttling: a sliding window of failed password checks, per account and per client
address. No I/O: the failures live in identity's PostgreSQL (so every identity process sees
the same counts); this module only decides.

The account key is a hash of the normalized e-mail, so an unknown e-mail is throttled exactly
like a known one (no user enumeration) and the failures table holds no address book.
A password change checks the current password against the same account budget.
"""
import hashlib
import ipaddress
import math
from dataclasses import dataclass

from contracts.errors import TooManyRequests

from services.identity.accounts import normalize_email

TOO_MANY = "Too many failed attempts; try again later."


@dataclass(frozen=True)
class Limits:
    """At most ``account`` failures per account and ``address`` per client address within the
    last ``window`` seconds; the next attempt past either limit is refused unchecked."""
    account: int = 5
    address: int = 20
    window: int = 900

    def __post_init__(self):
        if self.account < 1 or self.address < 1 or self.window < 1:
            raise ValueError("sign-in limits and window must be positive")

    @classmethod
    def from_config(cls, config):
        return cls(account=int(config.get("SIGN_IN_ACCOUNT_LIMIT", cls.account)),
                   address=int(config.get("SIGN_IN_ADDRESS_LIMIT", cls.address)),
                   window=int(config.get("SIGN_IN_WINDOW_SECONDS", cls.window)))


def account_key(email):
    digest = hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()
    return f"account:{digest}"


def address_key(address):
    """The key of a client address, or None when there is none (or it is not an IP address:
    the gateway sends only what it parsed, anything else is ignored rather than trusted)."""
    if not isinstance(address, str) or not address.strip():
        return None
    try:
        return f"address:{ipaddress.ip_address(address.strip()).compressed}"
    except ValueError:
        return None


def keys(limits, email, address):
    """``{key: limit}`` of one attempt."""
    found = {account_key(email): limits.account}
    by_address = address_key(address)
    if by_address is not None:
        found[by_address] = limits.address
    return found


def retry_after(failures, limit, window, now):
    """Seconds until an attempt may be made, 0 if it may be made now.

    ``failures`` are the times (seconds, any order) of the key's failed attempts; those in
    ``(now - window, now]`` count. With ``limit`` or more of them the attempt waits until
    enough leave the window to bring the count below ``limit``.
    """
    recent = sorted(t for t in failures if now - window < t <= now)
    if len(recent) < limit:
        return 0
    leaves_at = recent[len(recent) - limit] + window
    return max(1, math.ceil(leaves_at - now))


def check(failures_by_key, limits_by_key, window, now):
    """Raise TooManyRequests (with ``retry_after``) when any key is over its limit."""
    wait = max((retry_after(failures_by_key.get(key, ()), limit, window, now)
                for key, limit in limits_by_key.items()), default=0)
    if wait:
        raise TooManyRequests(TOO_MANY, details={"retry_after": wait})
