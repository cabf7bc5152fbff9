"""nameko's RPC with deadlines, as the services use it: the public names of
services/common/library_internals/nameko_rpc.py, where the code lives beside the other code that
relies on a library's private parts (it subclasses nameko's RPC internals; see its docstring)."""

from services.common.library_internals.nameko_rpc import (  # noqa: F401
    DEADLINE_KEY,
    DEFAULT_TIMEOUT,
    OUTCOME_NOT_DONE,
    OUTCOME_UNKNOWN,
    RpcDeadline,
    TimedRpcProxy,
    deadline_for,
    deadline_passed,
    rpc,
    unavailable,
)
