"""Identity asks the cases service who filed a case and whether the reader may see them.

The author card is personal data identity owns, but who may see it is decided by cases (the
case's mode and who works on it). Identity asks cases itself, over RPC, for the reader it
authenticated - it never takes the author's id or the permission from its caller.
A call that does not answer within RPC_TIMEOUT seconds is ServiceUnavailable (503).
"""
import eventlet
from nameko.exceptions import UnknownService

from contracts.errors import ServiceUnavailable

DEFAULT_TIMEOUT = 10.0


def author_for(cases, actor, case_id, reason, timeout=DEFAULT_TIMEOUT):
    """``{"author_id"}`` of the case when cases lets ``actor`` see it; its refusal (Forbidden,
    NotFound, InvalidInput for a moderator without a reason) passes through unchanged."""
    timer = eventlet.Timeout(timeout)
    try:
        return cases.author_for(actor, case_id, reason)
    except eventlet.Timeout as exc:
        if exc is not timer:
            raise
        raise ServiceUnavailable(f"The cases service did not answer within {timeout:g} s; try again later.",
                                 details={"service": "cases"}) from None
    except UnknownService:
        raise ServiceUnavailable("The cases service is not running; try again later.",
                                 details={"service": "cases"}) from None
    finally:
        timer.cancel()
