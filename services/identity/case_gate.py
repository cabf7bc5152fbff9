"""Identity asks the cases service who filed a case and whether the reader may see them.

The author card is personal data identity owns, but who may see it is decided by cases (the
case's mode and who works on it). Identity asks cases itself, over RPC, for the reader it
authenticated - it never takes the author's id or the permission from its caller.
``cases`` is a TimedRpcProxy (services/common/rpc.py): no answer within RPC_TIMEOUT seconds is
ServiceUnavailable (503), and the request carries the deadline of the call being handled.
"""


def author_for(cases, actor, case_id, reason):
    """``{"author_id"}`` of the case when cases lets ``actor`` see it; its refusal (Forbidden,
    NotFound, InvalidInput for a moderator without a reason) passes through unchanged."""
    return cases.author_for(actor, case_id, reason)
