"""The library's pure projections: a forum post and a library entry's clarifications."""

from services.library.service import anonymized_entry, forum_post, ordered_rubrics


def post_payload(**overrides):
    payload = {
        "thread_id": None,
        "title": "A title",
        "essence": "Pupils shout.",
        "question": "What now?",
        "rubrics": ["interaction-with-parents", "education-law"],
        "urgency": "urgent",
    }
    payload.update(overrides)
    return payload


def test_a_forum_post_is_scrubbed_and_keeps_no_thread_or_case():
    post = forum_post(
        post_payload(
            title="Ivan Petrov again", essence="Write to ivan.petrov@mail.ru.", question="Is school No. 5 right?"
        )
    )
    assert post == {
        "title": "[person] again",
        "essence": "Write to [e-mail].",
        "question": "Is [school] right?",
        "rubrics": ["education-law", "interaction-with-parents"],
        "urgency": "urgent",
    }


def test_without_a_title_the_first_80_characters_of_the_scrubbed_question_name_the_thread():
    question = "Ivan Petrov " + "x" * 200
    post = forum_post(post_payload(title="  ", question=question))
    assert post["title"] == ("[person] " + "x" * 200)[:80]
    assert forum_post(post_payload(title="", question="Short?"))["title"] == "Short?"


def test_rubrics_are_united_in_the_rubricator_order():
    assert ordered_rubrics(["families-at-risk", "education-law"], ["education-law", "self-management"]) == [
        "education-law",
        "self-management",
        "families-at-risk",
    ]
    assert ordered_rubrics([]) == []


def publication(**overrides):
    pub = {
        "essence": "E",
        "actions_taken": "",
        "difficulty": "",
        "question": "Q",
        "participants": [],
        "rubrics": ["education-law"],
        "urgency": "urgent",
        "solutions": [],
    }
    pub.update(overrides)
    return pub


def test_clarifications_are_scrubbed_question_and_answer_and_keep_their_kind():
    entry = anonymized_entry(
        publication(
            clarifications=[
                {"question": "What did Ivan Petrov say?", "kind": "clarifying", "answer": "Ask ivan.petrov@mail.ru."},
                {"question": "The next step?", "kind": "developing", "answer": None},
            ]
        )
    )
    assert entry["clarifications"] == [
        {"question": "What did [person] say?", "kind": "clarifying", "answer": "Ask [e-mail]."},
        {"question": "The next step?", "kind": "developing", "answer": None},
    ]


def test_an_older_publication_without_clarifications_has_none():
    assert anonymized_entry(publication())["clarifications"] == []


# ---- materials attached to solutions ---------------------------------------------------------

from services.library.projection import (  # noqa: E402
    attached_materials,
    entry_id,
    material_id,
    material_type_of,
    mean_helpfulness,  # noqa: E402
)


def test_a_reference_is_a_link_an_article_or_a_book():
    assert material_type_of("https://example.org/rules") == ("link", "https://example.org/rules")
    assert material_type_of("  http://example.org/a?b=1.  ") == ("link", "http://example.org/a?b=1")
    assert material_type_of("Ivanova A. Rules // School Journal. 2020. No 3.") == ("article", None)
    assert material_type_of("Ivanova A. Rules // School Journal. URL: https://example.org/j/3") == (
        "article",
        "https://example.org/j/3",
    )
    assert material_type_of("Makarenko A. S. Pedagogical poem. Moscow, 1935.") == ("book", None)
    assert material_type_of("Read https://example.org/x first") == ("book", "https://example.org/x")


def test_attached_materials_have_stable_ids_the_entry_rubrics_unless_their_own():
    entry = anonymized_entry(
        publication(
            rubrics=["self-management", "education-law"],
            solutions=[
                {"text": "A", "materials": [{"title": "Site", "reference": "https://example.org"}]},
                {
                    "text": "B",
                    "materials": [
                        {"title": "Book", "reference": "Ivanova A. Rules. 2020.", "rubrics": ["families-at-risk"]}
                    ],
                    "helpfulness": 4,
                },
            ],
        )
    )
    event_id = "0d4f7c59-5d43-4a8e-8f3a-9a8f2b1c0e11"
    link, book = attached_materials(event_id, entry)
    assert link == {
        "id": material_id(event_id, 0, 0),
        "material_type": "link",
        "title": "Site",
        "url": "https://example.org",
        "reference": "",
        "rubrics": ["education-law", "self-management"],
        "helpfulness": None,
    }
    assert book["id"] == material_id(event_id, 1, 0) and book["rubrics"] == ["families-at-risk"]
    assert book["helpfulness"] == 4  # its solution's rating: what worked
    assert mean_helpfulness(entry) == 4 and mean_helpfulness(anonymized_entry(publication())) is None
    assert book["reference"] == "Ivanova A. Rules. 2020." and book["url"] is None
    assert attached_materials(event_id, entry) == [link, book]  # the same event, the same ids
    assert entry_id(event_id) == entry_id(event_id) != entry_id("1d4f7c59-5d43-4a8e-8f3a-9a8f2b1c0e11")
    assert len({entry_id(event_id), material_id(event_id, 0, 0), material_id(event_id, 1, 0)}) == 3
