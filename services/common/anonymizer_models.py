"""The anonymizer's models loaded while a service starts, not by the first text it scrubs.

Loading natasha's NER, pymorphy3's dictionary and the English word lists takes about a second on a
quiet machine and several on a busy one; the first survey answer or library draft after a start paid
it inside its RPC, which the gateway gives up on after RPC_TIMEOUT (a 503 for a request that did
nothing wrong). A service that scrubs texts declares ``AnonymizerModels()``: its setup loads them once
a process (the models are shared by every container of it), before the service takes any work.
"""

from nameko.extensions import DependencyProvider

from services.common import anonymizer


class AnonymizerModels(DependencyProvider):
    def setup(self) -> None:
        anonymizer.load_models()

    def get_dependency(self, worker_ctx: object) -> None:
        return None
