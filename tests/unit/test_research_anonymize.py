"""The research export's field rules, without a database."""

from research.anonymize import Pseudonymizer, anonymize_data

P = Pseudonymizer("k")


def test_ids_become_pseudonyms_at_any_depth_and_case_parts_keep_their_ids():
    data = {
        "proposals": [{"mentor_id": "m-1", "matched_rubrics": ["x"], "score": 1.0}],
        "excluded_mentor_ids": ["m-1", "m-2"],
        "thread_id": "t-1",
        "question_id": "q-1",
        "number": "MC-1",
        "reflection": {"helpfulness": {"s-1": 5}, "problem_solved": "yes"},
    }
    out = anonymize_data(data, P)
    assert out["proposals"][0]["mentor_id"] == P("m-1") == out["excluded_mentor_ids"][0] != P("m-2")
    assert out["thread_id"] == P("t-1") and out["question_id"] == "q-1" and "number" not in out
    assert out["reflection"] == {"helpfulness": {"s-1": 5}, "problem_solved": "yes"}
    assert P("m-1") != Pseudonymizer("other")("m-1") and len(P("m-1")) == 16


def test_text_is_scrubbed_or_dropped_and_unknown_strings_are_scrubbed():
    data = {"text": "Ask Ivan Petrov", "asked_at": "2026-01-02T10:00:00+00:00", "novel_field": "mail a@b.org"}
    assert anonymize_data(data, P) == {
        "text": "Ask [person]",
        "asked_at": "2026-01-02T10:00:00+00:00",
        "novel_field": "mail [e-mail]",
    }
    assert anonymize_data(data, P, drop_text=True) == {
        "asked_at": "2026-01-02T10:00:00+00:00",
        "novel_field": "mail [e-mail]",
    }
