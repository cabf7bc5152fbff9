"""The library's curation rules and the forum's pseudonyms and views (pure)."""

from datetime import datetime, timedelta, timezone

import pytest

from contracts.errors import InvalidInput
from services.library import curation, forum

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


# ---- curation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "material, problems",
    [
        ({"material_type": "link", "url": "https://x.org"}, {}),
        ({"material_type": "link", "url": None, "reference": "Somewhere"}, {"url"}),
        ({"material_type": "book", "reference": "Ivanova A. Rules. 2020."}, {}),
        ({"material_type": "book", "reference": "  ", "url": "https://x.org"}, {"reference"}),
        ({"material_type": "article", "reference": "Ivanova A. // J. 2020."}, {}),
        ({"material_type": "article", "url": "https://x.org"}, {}),
        ({"material_type": "article", "url": None, "reference": ""}, {"url"}),
    ],
)
def test_a_material_needs_what_its_type_needs(material, problems):
    assert set(curation.material_problems(material)) == set(problems)


def test_an_edit_lists_what_changes_and_refuses_fields_of_the_other_kind():
    row = {"essence": "Old", "question": "Q?", "rubrics": ["self-management"], "title": None}
    assert curation.changes_for("solved_case", row, {"essence": "New", "question": "Q?"}) == {
        "essence": {"before": "Old", "after": "New"}
    }  # an unchanged field is no change
    assert curation.changes_for("solved_case", row, {"rubrics": ["self-management", "education-law"]}) == {
        "rubrics": {"before": ["self-management"], "after": ["education-law", "self-management"]}
    }
    with pytest.raises(InvalidInput) as refused:
        curation.changes_for("solved_case", row, {"title": "T", "url": "https://x.org", "essence": "E"})
    assert set(refused.value.fields) == {"title", "url"}
    with pytest.raises(InvalidInput) as refused:
        curation.changes_for("material", {"title": "T"}, {"essence": "E"})
    assert set(refused.value.fields) == {"essence"}


# ---- the forum --------------------------------------------------------------------------------


def test_pseudonyms_number_each_role_in_order_of_first_writing():
    assert forum.pseudonyms(
        [("u1", "mentee"), ("u2", "mentor"), ("u1", "mentee"), ("u3", "mentee"), ("u4", "moderator")]
    ) == {"u1": "Mentee 1", "u2": "Mentor 1", "u3": "Mentee 2", "u4": "Moderator 1"}
    assert forum.pseudonyms([]) == {}


def test_one_request_key_of_one_person_is_one_message():
    me, other = {"user_id": "u1"}, {"user_id": "u2"}
    assert forum.message_id(me, "k") == forum.message_id(me, "k")
    assert len({forum.message_id(me, "k"), forum.message_id(me, "k2"), forum.message_id(other, "k")}) == 3


def message(id_, author="u1", hidden=False, minutes=0):
    return {
        "id": id_,
        "kind": "message",
        "author_id": author,
        "author_role": "mentee",
        "text": "Hi",
        "reply_to": None,
        "created_at": AT + timedelta(minutes=minutes),
        "hidden_at": AT if hidden else None,
        "hidden_reason": "Rude." if hidden else None,
    }


def test_a_message_shows_a_role_and_a_pseudonym_never_the_author_id():
    view = forum.post_view(message("m1"), {"u1": "Mentee 1"}, {"user_id": "u2"}, moderator=False)
    assert view == {
        "id": "m1",
        "kind": "message",
        "text": "Hi",
        "reply_to": None,
        "created_at": AT.isoformat(),
        "author": {"role": "mentee", "label": "Mentee 1", "own": False},
    }
    assert forum.post_view(message("m1"), {"u1": "Mentee 1"}, {"user_id": "u1"}, False)["author"]["own"] is True


def test_a_hidden_post_is_gone_except_for_moderators_who_see_why():
    hidden = message("m1", hidden=True)
    assert forum.post_view(hidden, {"u1": "Mentee 1"}, {"user_id": "u1"}, moderator=False) is None
    seen = forum.post_view(hidden, {"u1": "Mentee 1"}, {"user_id": "mod"}, moderator=True)
    assert seen["hidden"] is True and seen["hidden_reason"] == "Rude."


def test_the_timeline_is_oldest_first_case_posts_before_messages_of_the_same_moment():
    case_post = {"id": "z", "kind": "case", "created_at": AT}
    posts = forum.timeline([case_post], [message("b", minutes=1), message("a", minutes=0)])
    assert [p["id"] for p in posts] == ["z", "a", "b"]
