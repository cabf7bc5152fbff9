"""What notifications asks identity about people, with a deadline.

nameko's RpcProxy waits for a reply forever; here every call gives up after RPC_TIMEOUT and
raises ServiceUnavailable, so a down identity service delays a message or an e-mail (which
is retried) instead of blocking a worker. Errors identity raises itself (NotFound ...) pass.
"""
import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from contracts.errors import ServiceUnavailable

DEFAULT_TIMEOUT = 10.0


class Directory(RpcProxy):
    """``self.directory.contact_for(user_id)``, ``.moderator_contacts()``, ``.role_of(user_id)``."""

    def __init__(self, **options):
        super().__init__("identity", **options)

    def setup(self):
        super().setup()
        self.timeout = float(self.container.config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))

    def get_dependency(self, worker_ctx):
        return TimedIdentity(super().get_dependency(worker_ctx), self.timeout)


class TimedIdentity:
    def __init__(self, proxy, timeout):
        self._proxy = proxy
        self._timeout = timeout

    def _call(self, method, *args):
        timer = eventlet.Timeout(self._timeout)
        try:
            return getattr(self._proxy, method)(*args)
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise
            raise ServiceUnavailable(f"The identity service did not answer within {self._timeout:g} s.",
                                     details={"service": "identity"}) from None
        except UnknownService:
            raise ServiceUnavailable("The identity service is not running.", details={"service": "identity"}) from None
        finally:
            timer.cancel()

    def contact_for(self, user_id):
        return self._call("contact_for", user_id)

    def moderator_contacts(self):
        return self._call("moderator_contacts")

    def role_of(self, user_id):
        return self._call("role_of", user_id)
