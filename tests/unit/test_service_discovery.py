"""`nameko run services.<name>.service` (the runner's and compose's command) must find exactly one
service in each module: nameko takes every class with entrypoints in the module's namespace, so a
route mixin imported by class name would be started as a second, nameless service and fail."""

import importlib

import pytest
from nameko.cli.run import import_service

from tests.unit.test_deployment import nameko_service_names


@pytest.mark.parametrize("service", nameko_service_names())
def test_each_service_module_holds_one_service(service):
    module = importlib.import_module(f"services.{service}.service")
    [found] = import_service(f"services.{service}.service")
    assert found.name == service and found.__module__ == module.__name__
