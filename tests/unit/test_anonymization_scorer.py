"""The corpus scorer itself: markup parsing and what counts as removed (a scorer that cannot fail is no floor)."""

from tests.anonymization.scorer import parse, removed, score


def test_markup_becomes_plain_text_with_item_positions_and_phrases():
    text = parse("Мама {{person:Анна Ли}} пишет [[каждый вечер]] на {{email:a@b.ru}}.", "ru")
    assert text.text == "Мама Анна Ли пишет каждый вечер на a@b.ru."
    assert [(i.kind, text.text[i.start : i.stop]) for i in text.items] == [("person", "Анна Ли"), ("email", "a@b.ru")]
    assert text.phrases == ["каждый вечер"]


def test_an_item_is_removed_only_when_every_letter_and_digit_is_inside_a_span():
    [item] = parse("живёт на {{address:ул. Профсоюзная, д. 12, кв. 5}}", "ru").items
    start = item.start
    assert removed(item, [(start, item.stop, "ADDRESS")])
    assert removed(item, [(start, start + 15, "ADDRESS"), (start + 17, item.stop, "ADDRESS")])  # ", " between
    assert not removed(item, [(start + 4, start + 15, "LOC")])  # "ул. [place], д. 12, кв. 5"


def test_a_do_nothing_anonymizer_scores_zero_and_keeps_everything():
    corpus = ([parse("{{person:Ivan Petrov}} [[shouts in class]].", "en")], ["In May we have Sports Day."])
    result = score(lambda text: [], lambda text: text, corpus)
    assert result.items_removed == (0, 1) and result.phrases_kept == (1, 1) and not result.controls_changed
    result = score(lambda text: [(0, len(text), "PER")], lambda text: "[person]", corpus)
    assert result.items_removed == (1, 1) and result.phrases_kept == (0, 1) and len(result.controls_changed) == 1
