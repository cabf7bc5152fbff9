"""The library's draft documents sealed and opened (services/library/sealing.py): every free text at any
depth, nothing that names nobody; an erased author's texts read "[erased]"."""

import uuid

from services.common import shredding
from services.library.review import text_paths
from services.library.sealing import DRAFT_TEXT_KEYS, is_person, map_texts, open_document, sealed_strings

PERSON = str(uuid.uuid4())
KEY = shredding.new_key()


def entry():
    return {
        "essence": "Пётр Сидоров skips lessons.",
        "actions_taken": "Talked to his mother.",
        "difficulty": "",
        "question": "What now?",
        "participants": ["parents"],
        "rubrics": ["interaction-with-parents"],
        "urgency": "need_advice",
        "problem_solved": "yes",
        "solutions": [
            {"text": "Meet them.", "helpfulness": 4, "materials": [{"title": "A book", "reference": "Ivanov, 2020"}]}
        ],
        "clarifications": [{"question": "Who knows?", "kind": "clarifying", "answer": "Only Olga."}],
    }


def seal(text):
    return shredding.seal(KEY, PERSON, text)


def test_every_text_a_moderator_reads_is_sealed_and_nothing_else():
    document = entry()
    sealed = map_texts(document, seal)
    for path, text in text_paths("solved_case", sealed):
        assert text == "" or text.startswith(f"{shredding.SEALED_PREFIX}{PERSON}:"), path
    assert len(sealed_strings(sealed)) == len([t for _, t in text_paths("solved_case", document) if t])
    kept = ("participants", "rubrics", "urgency", "problem_solved")
    assert {k: sealed[k] for k in kept} == {k: document[k] for k in kept}
    assert sealed["clarifications"][0]["kind"] == "clarifying" and sealed["solutions"][0]["helpfulness"] == 4
    assert "Сидоров" not in str(sealed) and "Olga" not in str(sealed)
    assert document == entry()  # a copy: the input is unchanged


def test_forum_post_texts_are_draft_text_keys_too():
    post = {"title": "Night messages", "essence": "e", "question": "q", "rubrics": ["r"], "urgency": "u"}
    assert {path for path, _ in text_paths("forum_post", post)} <= DRAFT_TEXT_KEYS


def test_opening_gives_the_texts_back_or_erased_without_the_key():
    sealed = map_texts(entry(), seal)
    assert open_document(sealed, {PERSON: KEY}.get) == entry()
    erased = open_document(sealed, {}.get)
    assert erased["essence"] == shredding.ERASED and erased["solutions"][0]["materials"][0]["title"] == shredding.ERASED
    assert erased["difficulty"] == "" and erased["rubrics"] == ["interaction-with-parents"]


def test_plaintext_of_rows_written_before_sealing_reads_as_it_is():
    assert open_document(entry(), {}.get) == entry()


def test_only_a_uuid_names_a_person_a_key_is_made_for():
    assert is_person(PERSON) and not is_person(None) and not is_person("") and not is_person("system")
