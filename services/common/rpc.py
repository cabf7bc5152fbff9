"""nameko's RPC entrypoint, with the platform's refusals declared as expected.

A refusal (400/401/403/404/409/429) is an answer, not a failure: nameko then logs it as a
one-line warning instead of an error with a traceback.
"""
from nameko.rpc import rpc as _nameko_rpc

from contracts.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized

EXPECTED = (InvalidInput, Unauthorized, Forbidden, NotFound, Conflict, TooManyRequests)


def rpc(fn):
    return _nameko_rpc(expected_exceptions=EXPECTED)(fn)
