"""The access audit's rules and views (no I/O): what is recorded, what the author sees of a reader."""

from datetime import datetime, timezone

import pytest

from contracts.errors import InvalidInput
from services.identity import audit

AUTHOR = "0b8f3c1e-2a4d-4e6f-8a1b-3c5d7e9f1a2b"
READER = "7d3e1f2a-9b8c-4d5e-a6f7-1b2c3d4e5f60"
AT = datetime(2026, 1, 2, 10, 0, tzinfo=timezone.utc)


def row(role="moderator", **overrides):
    return {
        "id": 7,
        "reader_id": READER,
        "reader_role": role,
        "case_id": "c-1",
        "disclosed": ["identity", "questionnaire"],
        "reason": "A parent's complaint about the case.",
        "read_at": AT,
        **overrides,
    }


def test_what_a_card_discloses():
    assert audit.disclosed({"questionnaire": None}) == ["identity"]
    assert audit.disclosed({"questionnaire": {"school": "No. 1"}}) == ["identity", "questionnaire"]


def test_the_authors_own_look_is_not_audited():
    assert not audit.audited(AUTHOR, AUTHOR) and audit.audited(AUTHOR, READER)


def test_a_moderators_entry_names_the_role_only():
    entry = audit.entry_view(row())
    assert entry == {
        "id": "7",
        "reader_role": "moderator",
        "reader": "a moderator",
        "mentor_id": None,
        "disclosed": ["identity", "questionnaire"],
        "case_id": "c-1",
        "reason": "A parent's complaint about the case.",
        "read_at": "2026-01-02T10:00:00+00:00",
    }
    assert READER not in str(entry)


def test_a_mentors_entry_names_the_mentor():
    entry = audit.entry_view(row("mentor", reason="", disclosed=["identity"]))
    assert (entry["reader"], entry["mentor_id"], entry["disclosed"]) == ("your mentor", READER, ["identity"])


def test_the_old_read_view_hides_a_moderator():
    assert audit.read_view(row()) == {"reader_id": None, "case_id": "c-1", "read_at": "2026-01-02T10:00:00+00:00"}
    assert audit.read_view(row("mentor"))["reader_id"] == READER


def test_a_page_tells_whether_more_follow():
    rows = [row(id=i) for i in (9, 8, 7)]
    assert audit.page_view(rows, 2)["next_before"] == "8" and len(audit.page_view(rows, 2)["items"]) == 2
    assert audit.page_view(rows, 3)["next_before"] is None


@pytest.mark.parametrize("bad", ["x", "0", "-3", "1.5"])
def test_a_bad_cursor_is_a_field_error(bad):
    with pytest.raises(InvalidInput) as refused:
        audit.cursor_argument(bad)
    assert set(refused.value.fields) == {"before"}


def test_a_cursor():
    assert audit.cursor_argument(None) is None and audit.cursor_argument("12") == 12
