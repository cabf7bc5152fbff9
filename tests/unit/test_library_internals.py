"""The fence around code that relies on other libraries' private parts (services/common/library_internals):
every module there names the library version it was written against, and the installed one must be that
version; when an upgrade changes it, this test fails naming what to re-check before the pin is moved.
Its stock paths, one setting away, do what the fast paths do."""

import importlib
import importlib.metadata
import pathlib

import pytest
from marshmallow import Schema, fields, pre_load

from services.common import db, library_internals

FENCE = pathlib.Path(library_internals.__file__).parent


def fenced(name):
    return importlib.import_module(f"services.common.library_internals.{name}")


def test_every_module_of_the_fence_is_listed():
    assert {p.stem for p in FENCE.glob("*.py")} - {"__init__"} == set(library_internals.MODULES)


@pytest.mark.parametrize("name", library_internals.MODULES)
def test_the_installed_library_is_the_version_the_fenced_code_was_written_against(name):
    module = fenced(name)
    distribution, written_against = module.WRITTEN_AGAINST
    installed = importlib.metadata.version(distribution)
    assert installed == written_against, (
        f"services/common/library_internals/{name}.py was written against {distribution} {written_against}, "
        f"but {installed} is installed. Re-check {module.RECHECK}; then move WRITTEN_AGAINST to {installed}."
    )


def test_the_pins_agree_with_pyproject():
    """The fence's versions are the project's declared pins: an upgrade moves both, never one alone."""
    pyproject = (FENCE.parents[2] / "pyproject.toml").read_text()
    for name in library_internals.MODULES:
        distribution, version = fenced(name).WRITTEN_AGAINST
        assert f'"{distribution}=={version}"' in pyproject, (name, distribution, version)


class Plain(Schema):
    name = fields.String(required=True)
    count = fields.Integer(required=True)


class Hooked(Schema):
    name = fields.String(required=True)

    @pre_load
    def upper(self, data, **kwargs):
        return {**data, "name": data["name"].upper()}


@pytest.mark.parametrize("enabled", [True, False])
def test_payloads_load_alike_with_the_fast_check_on_and_off(monkeypatch, enabled):
    fast_load = fenced("marshmallow_fast_load")
    monkeypatch.setattr(fast_load, "ENABLED", enabled)
    payload = {"name": "x", "count": 3}
    loaded = fast_load.load(Plain(), payload)
    assert loaded == Plain().load(payload) and (loaded is payload) is enabled  # off: marshmallow's own dict
    assert fast_load.load(Hooked(), {"name": "x"}) == {"name": "X"}


def test_the_pool_setting_picks_the_kept_or_the_stock_pool(monkeypatch):
    monkeypatch.delenv("DB_POOL", raising=False)
    assert db.pool_class() is db.KeepingPool and db.pool_class("stock") is db.StockPool
    monkeypatch.setenv("DB_POOL", "stock")
    assert db.pool_class() is db.StockPool
    monkeypatch.setenv("DB_POOL", "fast")
    with pytest.raises(ValueError, match="DB_POOL"):
        db.pool_class()


def test_a_page_mapper_maps_like_the_stock_mapper_and_finishes_each_page_once():
    """PageMapper (eventsourcing_application): the same domain events as eventsourcing's own Mapper, a
    page at a time, each page handed once to ``finish_page`` before anyone sees it."""
    import uuid

    from eventsourcing.application import Application
    from eventsourcing.persistence import Mapper

    from services.cases.domain import Case
    from services.common.library_internals.eventsourcing_application import PageMapper

    stock = Application().mapper
    assert type(stock) is Mapper
    case = Case.file(uuid.uuid4(), "MC-1", "author", {"essence": "E", "rubrics": ["r"]})
    case.withdraw("author", "R")
    stored = [stock.to_stored_event(e) for e in case.collect_events()]
    pages = []
    mapper = PageMapper(transcoder=stock.transcoder)
    mapper.finish_page = lambda events: pages.append([type(e).__name__ for e in events])
    assert [e.__dict__ for e in mapper.to_domain_events(stored)] == [stock.to_domain_event(s).__dict__ for s in stored]
    assert mapper.to_domain_event(stored[1]).__dict__ == stock.to_domain_event(stored[1]).__dict__
    assert mapper.to_unfinished_domain_event(stored[0]).__dict__ == stock.to_domain_event(stored[0]).__dict__
    assert pages == [["Created", "Withdrawn"], ["Withdrawn"]]
