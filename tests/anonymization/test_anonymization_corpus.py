"""The anonymizer on the labelled corpus (tests/anonymization/corpus, scored by scorer.py), at the floors
of issue 19: every planted item removed, at least 99 % of the content phrases kept, every control text
unchanged. The per-kind table is printed (pytest -s, or on failure)."""

import pytest

from services.common.anonymizer import find_spans, scrub
from tests.anonymization.scorer import KINDS, load_corpus, report, score


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture(scope="module")
def result(corpus):
    scored = score(find_spans, scrub, corpus)
    print("\n" + report(scored))
    return scored


def test_the_corpus_is_as_large_as_the_issue_asks(corpus):
    texts, controls = corpus
    items = [item for text in texts for item in text.items]
    assert len(items) >= 400 and sum(len(text.phrases) for text in texts) >= 250 and len(controls) >= 10
    for kind in KINDS:
        for language in ("ru", "en"):
            planted = [i for i in items if i.kind == kind and i.language == language]
            assert len(planted) >= 30, (kind, language, len(planted))


def test_every_planted_item_is_removed(result):
    done, total = result.items_removed
    assert done == total, report(result)


def test_at_least_99_percent_of_phrases_are_kept(result):
    kept, total = result.phrases_kept
    assert kept >= 0.99 * total, report(result)


def test_control_texts_are_unchanged(result):
    assert not result.controls_changed, report(result)
