"""The persons' keys of a service as a nameko dependency: its vault (services/common/shredding.py) under
its ``PERSON_KEYS_MASTER_KEY`` setting, built once at start - a service without the setting fails to
start rather than store plaintext."""

from collections.abc import Callable
from typing import Any

from nameko.extensions import DependencyProvider


class PersonKeys(DependencyProvider):
    """``vault = PersonKeys(make_vault)``: the worker's ``self.vault`` is ``make_vault(master key)``."""

    def __init__(self, make_vault: Callable[[str], Any]) -> None:
        self.make_vault = make_vault

    def setup(self) -> None:
        self.vault = self.make_vault(self.container.config["PERSON_KEYS_MASTER_KEY"])

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.vault
