"""The services that scrub texts load the anonymizer's models while they start: the first survey answer
after a start waited for them inside its RPC and, on a busy machine, past the gateway's timeout (a 503)."""

import pytest

from services.cases.service import CasesService
from services.common import anonymizer
from services.common.anonymizer import english, russian
from services.library.service import LibraryService


@pytest.mark.parametrize("service_cls", [LibraryService, CasesService], ids=lambda cls: cls.name)
def test_a_service_that_scrubs_texts_has_the_models_loaded_once_started(start_service, monkeypatch, service_cls):
    # as in a new process: nothing loaded (monkeypatch puts this process's loaded models back after)
    monkeypatch.setattr(russian._Models, "ner", None)
    monkeypatch.setattr(russian._Models, "morph", None)
    monkeypatch.setattr(english._Lexicon, "_detector", None)
    assert not anonymizer.models_loaded()
    start_service(service_cls)
    assert anonymizer.models_loaded()
