"""What a moderator is shown to look at in a draft (services/library/highlight.py) and how a draft's texts
are named and edited (services/library/review.py): pure."""

import pytest

from contracts.errors import InvalidInput
from services.library import highlight, review
from services.library.projection import anonymized_entry


def marked(text):
    return [(text[m["start"] : m["end"]], m["kind"]) for m in highlight.draft_marks(text)]


def test_placeholders_and_every_suspicious_token_are_marked_in_the_draft():
    text = (
        "Ученица [person] из 7Б написала 12 марта на anna@mail.ru и в vk.com/anna_k, "
        "Петров ответил. Школа была тихой; МЭШ не работала. Call https://example.org/x."
    )
    found = marked(text)
    assert ("[person]", "replaced") in found
    assert ("12", "digits") in found and ("марта", "date") in found
    assert ("anna@mail.ru", "at") in found
    assert ("vk.com/anna_k", "url") in found and ("https://example.org/x", "url") in found
    assert ("Петров", "name") in found and ("МЭШ", "name") in found
    # ordinary words at a sentence start are not names
    assert not [t for t, k in found if t in ("Ученица", "Школа", "Call")]


def test_english_names_and_dates_are_marked_ordinary_words_are_not():
    found = marked("My pupil Jonathan Smithers said on May 3rd that the Class was quiet.")
    assert ("Jonathan", "name") in found and ("Smithers", "name") in found
    assert ("May", "date") in found and ("3", "digits") in found
    assert not [t for t, k in found if t in ("My", "Class")]


def test_marks_never_overlap_and_cover_only_the_text():
    text = "Write to ivan.petrov@school57.ru or www.school57.ru on 01.09.2026, Ivan."
    marks = highlight.draft_marks(text)
    assert all(a["end"] <= b["start"] for a, b in zip(marks, marks[1:]))
    assert all(0 <= m["start"] < m["end"] <= len(text) for m in marks)
    assert (text[marks[0]["start"] : marks[0]["end"]], marks[0]["kind"]) == ("ivan.petrov@school57.ru", "at")


def test_the_original_marks_what_the_anonymizer_replaces():
    original = "Write to ivan@mail.ru about it."
    [mark] = highlight.replaced_marks(original)
    assert original[mark["start"] : mark["end"]] == "ivan@mail.ru" and mark["kind"] == "replaced"
    assert highlight.replaced_marks("") == []


def entry():
    return {
        **anonymized_entry(
            {
                "essence": "E",
                "actions_taken": "A",
                "difficulty": "D",
                "question": "Q",
                "participants": [],
                "rubrics": ["education-law"],
                "urgency": "urgent",
                "solutions": [{"text": "S", "materials": [{"title": "T", "reference": "R"}]}],
                "clarifications": [{"question": "CQ", "kind": "clarifying", "answer": None}],
            }
        ),
        "problem_solved": "yes",
    }


def test_every_free_text_of_a_draft_has_a_path_and_only_those_are_edited():
    content = entry()
    assert [p for p, _ in review.text_paths("solved_case", content)] == [
        "essence",
        "actions_taken",
        "difficulty",
        "question",
        "clarifications.0.question",
        "solutions.0.text",
        "solutions.0.materials.0.title",
        "solutions.0.materials.0.reference",
    ]
    edited = review.with_texts("solved_case", content, {"solutions.0.text": "S2", "essence": "E2"})
    assert edited["solutions"][0]["text"] == "S2" and edited["essence"] == "E2"
    assert content["solutions"][0]["text"] == "S"  # the draft given is not changed
    with pytest.raises(InvalidInput) as refused:
        review.with_texts("solved_case", content, {"clarifications.0.answer": "x", "rubrics": "y"})
    assert set(refused.value.fields) == {"texts.clarifications.0.answer", "texts.rubrics"}
    post = {"title": "T", "essence": "E", "question": "Q", "rubrics": [], "urgency": "urgent", "thread_id": None}
    assert [p for p, _ in review.text_paths("forum_post", post)] == ["title", "essence", "question"]


def test_the_review_setting_is_moderator_by_default_and_refuses_a_typo():
    assert review.review_mode({}) == "moderator"
    assert review.review_mode({"LIBRARY_REVIEW": " Automatic "}) == "automatic"
    with pytest.raises(ValueError):
        review.review_mode({"LIBRARY_REVIEW": "auto"})
