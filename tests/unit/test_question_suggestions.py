"""The ranking of question suggestions learned from solved cases (services/cases/question_suggestions.py):
grouping, weighting by outcome and redefinition, provenance, privacy, fallback to the bank, usage."""

from types import SimpleNamespace

from contracts.question_bank import HINTS_BY_ID, QUESTION_BANK, bank_as_dict
from services.cases import question_suggestions as qs


def _q(case_id, text, redefined=False, bank_id=None, kind="clarifying"):
    return {
        "case_id": case_id,
        "key": qs.question_key(bank_id, text),
        "text": text,
        "kind": kind,
        "bank_id": bank_id,
        "redefined": redefined,
    }


def _case(similarity=1.0, solved="yes", publishes=True):
    return {"similarity": similarity, "problem_solved": solved, "publishes": publishes}


def test_near_identical_questions_are_one_group_counting_each_case_once():
    ranked = qs.aggregate(
        {"a": _case(), "b": _case(), "c": _case(solved="no")},
        [
            _q("a", "How many pupils are in the class?"),
            _q("a", "how many pupils are in the class"),
            _q("b", "How many pupils are  in the class ?!"),
            _q("c", "How many pupils are in the class?"),
        ],
    )
    assert len(ranked) == 1
    assert ranked[0]["provenance"] == {"cases": 3, "yes": 2, "partly": 0, "no": 1, "redefined": 0}
    assert ranked[0]["text"] == "How many pupils are in the class?"  # the commonest wording


def test_yo_and_case_do_not_split_a_group():
    assert qs.normalise("Что ещё вы пробовали?") == qs.normalise("что еще вы пробовали")


def test_a_solved_case_outweighs_an_unsolved_one_of_the_same_similarity():
    ranked = qs.aggregate(
        {"a": _case(solved="yes"), "b": _case(solved="no"), "c": _case(solved="yes"), "d": _case(solved="no")},
        [
            _q("a", "What did the parents say?"),
            _q("c", "What did the parents say?"),
            _q("b", "Who else saw it?"),
            _q("d", "Who else saw it?"),
        ],
    )
    assert [s["text"] for s in ranked] == ["What did the parents say?", "Who else saw it?"]


def test_questions_that_led_to_a_redefinition_weigh_more():
    ranked = qs.aggregate(
        {"a": _case(), "b": _case(), "c": _case(), "d": _case()},
        [
            _q("a", "What do you want to change?", redefined=True),
            _q("b", "What do you want to change?", redefined=True),
            _q("c", "When did it start?"),
            _q("d", "When did it start?"),
        ],
    )
    assert ranked[0]["text"] == "What do you want to change?"
    assert ranked[0]["provenance"]["redefined"] == 2
    assert ranked[0]["score"] > ranked[1]["score"]


def test_a_more_similar_case_counts_more():
    ranked = qs.aggregate(
        {
            "a": _case(similarity=0.9),
            "b": _case(similarity=0.9),
            "c": _case(similarity=0.3),
            "d": _case(similarity=0.3),
        },
        [_q("c", "Far question?"), _q("d", "Far question?"), _q("a", "Near question?"), _q("b", "Near question?")],
    )
    assert ranked[0]["text"] == "Near question?"


def test_one_unpublished_case_never_gives_its_own_wording_away():
    ranked = qs.aggregate(
        {"a": _case(publishes=False), "b": _case(publishes=True)},
        [_q("a", "Did Ivan's mother call you?"), _q("b", "What did the head teacher say?")],
    )
    assert [s["text"] for s in ranked] == ["What did the head teacher say?"]


def test_two_unpublished_cases_asking_alike_are_an_aggregate_and_shown():
    ranked = qs.aggregate(
        {"a": _case(publishes=False), "b": _case(publishes=False)},
        [_q("a", "What did the class tutor say?"), _q("b", "What did the class tutor say?")],
    )
    assert ranked[0]["provenance"]["cases"] == 2


def test_a_bank_hint_asked_once_is_shown_with_the_banks_text():
    ranked = qs.aggregate({"a": _case(publishes=False)}, [_q("a", "anything", bank_id="options-2")])
    assert ranked[0]["bank_id"] == "options-2"
    assert ranked[0]["text"] == "What do you think you need to do next?"
    assert ranked[0]["source"] == qs.LEARNED


def test_provenance_names_no_case():
    ranked = qs.aggregate(
        {"case-1": _case(), "case-2": _case()}, [_q("case-1", "What was tried?"), _q("case-2", "What was tried?")]
    )
    assert "case-1" not in repr(qs.with_fallback(ranked, 5))


def test_without_learned_suggestions_the_bank_in_its_order():
    first = [h.id for g in QUESTION_BANK for h in g.hints][:5]
    suggestions = qs.with_fallback([], 5)
    assert [s["bank_id"] for s in suggestions] == first
    assert all(s["source"] == qs.BANK and s["provenance"] is None for s in suggestions)


def test_the_bank_fills_after_learned_ones_without_repeating_a_hint():
    learned = qs.aggregate({"a": _case()}, [_q("a", "x", bank_id="goals-1")])
    suggestions = qs.with_fallback(learned, 5)
    assert [s["bank_id"] for s in suggestions] == ["goals-1", "goals-2", "goals-3", "goals-4", "goals-5"]
    assert [s["source"] for s in suggestions] == [qs.LEARNED] + [qs.BANK] * 4


def test_similarity_weights_rare_words_and_rubrics():
    idf = qs.idf_weights({"bully": 1, "lesson": 50}, 100)
    assert qs.similarity(["bully"], ["bully", "lesson"], idf, [], []) > qs.similarity(
        ["lesson"], ["bully", "lesson"], idf, [], []
    )
    assert qs.similarity([], ["bully"], idf, ["conflicts"], ["conflicts"]) == qs.RUBRIC_WEIGHT
    assert qs.similarity([], [], {}, [], []) == 0.0


def test_use_as_is_or_edited_is_decided_from_the_text():
    suggestion = qs.suggestion_id(qs.LEARNED, qs.normalise("What have you tried already?"))
    assert qs.use_of(suggestion, None, "What have you tried already") == qs.AS_IS
    assert qs.use_of(suggestion, None, "What have you tried already with this pupil?") == qs.EDITED
    bank = qs.suggestion_id(qs.BANK, qs.question_key("goals-1", None))
    assert qs.use_of(bank, "goals-1", None) == qs.AS_IS
    assert qs.use_of(bank, None, "What exactly do you want from us?") == qs.EDITED
    assert qs.use_of(None, None, "anything") is None
    assert qs.source_of(suggestion) == qs.LEARNED and qs.source_of(bank) == qs.BANK


def test_the_bank_served_to_clients_carries_each_hints_suggestion_id():
    """A client that shows the whole bank (the browser's checkboxes) sends the id the cases service
    gives the hint as a suggestion: the served bank's ids are the suggestions' ids."""
    served = {h["id"]: h["suggestion_id"] for g in bank_as_dict() for h in g["hints"]}
    suggested = {s["bank_id"]: s["id"] for s in qs.bank_suggestions()}
    assert served == suggested and len(set(served.values())) == len(served)
    assert all(qs.use_of(served[hint_id], hint_id, None) == qs.AS_IS for hint_id in served)
    assert qs.use_of(served["goals-1"], "goals-2", None) == qs.EDITED  # another hint ticked is not this one


def test_a_bank_hint_typed_out_is_that_hint():
    """A learned suggestion of a bank hint, taken into a written field as its text, is asked as is;
    and a bank hint asked is its own text, for a learned suggestion grouped by that text."""
    text = HINTS_BY_ID["goals-1"].text
    learned_bank = qs.suggestion_id(qs.LEARNED, qs.question_key("goals-1", None))
    assert qs.use_of(learned_bank, None, text) == qs.AS_IS
    assert qs.use_of(learned_bank, None, text.upper() + "!!") == qs.AS_IS
    assert qs.use_of(learned_bank, None, text + " And at home?") == qs.EDITED
    assert qs.use_of(learned_bank, None, HINTS_BY_ID["goals-2"].text) == qs.EDITED
    learned_text = qs.suggestion_id(qs.LEARNED, qs.normalise(text))
    assert qs.use_of(learned_text, "goals-1", None) == qs.AS_IS
    assert qs.use_of(learned_text, "goals-2", None) == qs.EDITED


def _solved_case(questions, revisions=1, consent=False, state="completed"):
    form = {
        "essence": "Иван Петров срывает уроки",
        "difficulty": "",
        "question": "Что делать?",
        "rubrics": ["conflicts"],
        "publication_consent": consent,
    }
    return SimpleNamespace(
        state=state,
        reflection={"problem_solved": "partly"},
        revisions=[form] * revisions,
        questions=questions,
        publishes=consent,
    )


def test_pool_record_anonymizes_and_marks_questions_followed_by_a_redefinition():
    record = qs.pool_record(
        _solved_case(
            [
                {
                    "id": "1",
                    "bank_id": None,
                    "text": "Что сказала мама Ивана Петрова?",
                    "kind": "clarifying",
                    "revision": 1,
                },
                {"id": "2", "bank_id": "goals-1", "text": "x", "kind": "developing", "revision": 2},
            ],
            revisions=2,
        )
    )
    first, second = record["questions"]
    assert "Петров" not in first["text"] and "[person]" in first["text"]
    assert first["redefined"] is True and second["redefined"] is False
    assert second["key"] == "bank:goals-1"
    assert record["problem_solved"] == "partly" and record["publishes"] is False


def test_a_case_not_completed_is_not_in_the_pool():
    assert qs.pool_record(_solved_case([], state="in_progress")) is None
