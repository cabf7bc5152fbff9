"""Sign-in and registration throttling: sliding windows of failed attempts. No I/O: the failures
live in identity's PostgreSQL (so every identity process sees the same counts); this module only
decides.

Nobody but the owner may lock an account: a password guessed from many addresses must not keep the
owner out. So the hard limits (429 until the window lets the attempt in) are per (account, address)
and per address; per account there is only a growing delay of a few seconds at most, counted from
the account's latest failure (``Limits.account_delay``), which slows a guessing botnet to one guess
per ``max_delay`` seconds without locking anyone out for longer than that.

The account keys are hashes of the normalized e-mail, so an unknown e-mail is throttled exactly
like a known one (no user enumeration) and the failures table holds no address book.
A password change checks the current password against the same budgets.
"""

import hashlib
import ipaddress
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.errors import TooManyRequests
from services.identity.accounts import normalize_email

TOO_MANY = "Too many failed attempts; try again later."
TOO_MANY_REGISTRATIONS = "Too many registrations from this address; try again later."


@dataclass(frozen=True)
class Limits:
    """Within the last ``window`` seconds: at most ``account`` failures per account from one address
    and ``address`` per client address, then refused unchecked until the window lets the attempt in.
    Past ``account`` failures of the account from anywhere, each attempt waits from the account's
    latest failure 1, 2, 4 ... seconds, at most ``max_delay``. ``registrations`` per address in
    ``registration_window`` seconds."""

    account: int = 5
    address: int = 20
    window: int = 900
    max_delay: int = 5
    registrations: int = 10
    registration_window: int = 3600

    def __post_init__(self) -> None:
        if (
            min(self.account, self.address, self.window, self.max_delay, self.registrations, self.registration_window)
            < 1
        ):
            raise ValueError("sign-in and registration limits and windows must be positive")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Limits":
        return cls(
            account=int(config.get("SIGN_IN_ACCOUNT_LIMIT", cls.account)),
            address=int(config.get("SIGN_IN_ADDRESS_LIMIT", cls.address)),
            window=int(config.get("SIGN_IN_WINDOW_SECONDS", cls.window)),
            max_delay=int(config.get("SIGN_IN_ACCOUNT_MAX_DELAY_SECONDS", cls.max_delay)),
            registrations=int(config.get("REGISTRATION_ADDRESS_LIMIT", cls.registrations)),
            registration_window=int(config.get("REGISTRATION_WINDOW_SECONDS", cls.registration_window)),
        )

    @property
    def retention(self) -> int:
        """Seconds a failure row is of any use: the longest window."""
        return max(self.window, self.registration_window)

    def account_delay(self, failures: Iterable[float], now: float) -> int:
        """Seconds the next attempt on an account waits (0: none), from its failures' times: with
        ``n`` >= ``account`` failures in the window, ``min(max_delay, 2 ** (n - account))`` seconds
        after the latest one."""
        recent = [t for t in failures if now - self.window < t <= now]
        if len(recent) < self.account:
            return 0
        wait = max(recent) + min(self.max_delay, 2 ** (len(recent) - self.account)) - now
        return max(1, math.ceil(wait)) if wait > 0 else 0


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def account_key(email: str) -> str:
    return f"account:{_digest(normalize_email(email))}"


def address_key(address: object, prefix: str = "address") -> str | None:
    """The key of a client address, or None when there is none (or it is not an IP address:
    the gateway sends only what it parsed, anything else is ignored rather than trusted)."""
    if not isinstance(address, str) or not address.strip():
        return None
    try:
        return f"{prefix}:{ipaddress.ip_address(address.strip()).compressed}"
    except ValueError:
        return None


def account_address_key(email: str, address: object) -> str:
    """One account from one address (an attempt with no known address counts as its own address)."""
    where = address_key(address) or "address:unknown"
    return f"account-address:{_digest(normalize_email(email) + ' ' + where)}"


def keys(limits: Limits, email: str, address: object) -> dict[str, int]:
    """``{key: limit}`` of one attempt's hard limits (the account's own key only delays)."""
    found = {account_address_key(email, address): limits.account}
    by_address = address_key(address)
    if by_address is not None:
        found[by_address] = limits.address
    return found


def success_keys(email: str, address: object) -> list[str]:
    """The counts a right password clears: the account's delay, and the account from this address."""
    return [account_key(email), account_address_key(email, address)]


def registration_keys(limits: Limits, address: object) -> dict[str, int]:
    """``{key: limit}`` of one registration: per client address (none without an address)."""
    key = address_key(address, prefix="register")
    return {} if key is None else {key: limits.registrations}


def retry_after(failures: Iterable[float], limit: int, window: float, now: float) -> int:
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


def check(
    failures_by_key: Mapping[str, Iterable[float]],
    limits_by_key: Mapping[str, int],
    window: float,
    now: float,
    delay: int = 0,
    message: str = TOO_MANY,
) -> None:
    """Raise TooManyRequests (with ``retry_after``) when any key is over its limit, or while the
    account's ``delay`` lasts: the longest wait of all."""
    wait = max(
        [retry_after(failures_by_key.get(key, ()), limit, window, now) for key, limit in limits_by_key.items()]
        + [delay]
    )
    if wait:
        raise TooManyRequests(message, details={"retry_after": wait})
