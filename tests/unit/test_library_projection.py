"""The library's pure projections: a forum post and a library entry's clarifications."""
from services.library.service import anonymized_entry, forum_post, ordered_rubrics


def post_payload(**overrides):
    payload = {"thread_id": None, "title": "A title", "essence": "Pupils shout.", "question": "What now?",
               "rubrics": ["interaction-with-parents", "education-law"], "urgency": "urgent"}
    payload.update(overrides)
    return payload


def test_a_forum_post_is_scrubbed_and_keeps_no_thread_or_case():
    post = forum_post(post_payload(title="Ivan Petrov again", essence="Write to ivan.petrov@mail.ru.",
                                   question="Is school No. 5 right?"))
    assert post == {"title": "[person] again", "essence": "Write to [e-mail].",
                    "question": "Is [school] right?", "rubrics": ["education-law", "interaction-with-parents"],
                    "urgency": "urgent"}


def test_without_a_title_the_first_80_characters_of_the_scrubbed_question_name_the_thread():
    question = "Ivan Petrov " + "x" * 200
    post = forum_post(post_payload(title="  ", question=question))
    assert post["title"] == ("[person] " + "x" * 200)[:80]
    assert forum_post(post_payload(title="", question="Short?"))["title"] == "Short?"


def test_rubrics_are_united_in_the_rubricator_order():
    assert ordered_rubrics(["families-at-risk", "education-law"], ["education-law", "self-management"]) == [
        "education-law", "self-management", "families-at-risk"]
    assert ordered_rubrics([]) == []


def publication(**overrides):
    pub = {"essence": "E", "actions_taken": "", "difficulty": "", "question": "Q", "participants": [],
           "rubrics": ["education-law"], "urgency": "urgent", "solutions": []}
    pub.update(overrides)
    return pub


def test_clarifications_are_scrubbed_question_and_answer_and_keep_their_kind():
    entry = anonymized_entry(publication(clarifications=[
        {"question": "What did Ivan Petrov say?", "kind": "clarifying", "answer": "Ask ivan.petrov@mail.ru."},
        {"question": "The next step?", "kind": "developing", "answer": None},
    ]))
    assert entry["clarifications"] == [
        {"question": "What did [person] say?", "kind": "clarifying", "answer": "Ask [e-mail]."},
        {"question": "The next step?", "kind": "developing", "answer": None},
    ]


def test_an_older_publication_without_clarifications_has_none():
    assert anonymized_entry(publication())["clarifications"] == []
