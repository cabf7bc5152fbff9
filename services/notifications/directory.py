"""What notifications asks identity about people, with a deadline.

A TimedRpcProxy (services/common/rpc.py): every call gives up after RPC_TIMEOUT and raises
ServiceUnavailable, so a down identity service delays a message or an e-mail (which is retried)
instead of blocking a worker; a request identity takes too late is dropped, not answered.
Errors identity raises itself (NotFound ...) pass.
"""

from services.common.rpc import TimedRpcProxy


class Directory(TimedRpcProxy):
    """``self.identity.contact_for(user_id)``, ``.moderator_contacts()``, ``.role_of(user_id)``."""

    def __init__(self, **options):
        super().__init__("identity", **options)
