"""Account and mentor-profile rules of the identity service: pure logic, no I/O."""

import uuid
from datetime import date, datetime, timezone

import pytest

from contracts.errors import Forbidden, InvalidInput
from contracts.events import dump_payload
from contracts.rpc_identity import MentorProfileSchema, RegisterSchema
from contracts.validation import load
from services.identity import accounts, profiles

MENTOR_ID = "0b8f3c1e-2a4d-4e6f-8a1b-3c5d7e9f1a2b"


def _profile(**overrides):
    data = {
        "rubrics": ["digital-technologies", "monitoring-evaluation"],
        "motto": "  Measure it.  ",
        "links": ["https://example.org/works"],
        "accepting_cases": True,
    }
    data.update(overrides)
    return load(MentorProfileSchema(), data)


# ---- accounts ---------------------------------------------------------------------


def test_new_user_lower_cases_email_and_strips_names():
    form = load(
        RegisterSchema(),
        {
            "email": "Anna.Petrova@School.EXAMPLE.org",
            "password": "long-enough-1",
            "role": "mentee",
            "first_name": " Anna ",
            "last_name": "Petrova",
        },
    )
    user = accounts.new_user(form, "$argon2id$hash")
    assert user["email"] == "anna.petrova@school.example.org"
    assert (user["first_name"], user["last_name"], user["patronymic"]) == ("Anna", "Petrova", "")
    assert user["role"] == "mentee" and user["password_hash"] == "$argon2id$hash"
    uuid.UUID(user["id"])


def test_register_schema_refuses_moderator_role_and_names_the_field():
    with pytest.raises(InvalidInput) as info:
        load(
            RegisterSchema(),
            {
                "email": "x@example.org",
                "password": "long-enough-1",
                "role": "moderator",
                "first_name": "A",
                "last_name": "B",
            },
        )
    assert set(info.value.fields) == {"role"}


def test_user_view_never_carries_the_password_hash():
    row = {
        "id": uuid.UUID(MENTOR_ID),
        "email": "a@example.org",
        "password_hash": "$argon2id$secret",
        "role": "mentor",
        "first_name": "A",
        "last_name": "B",
        "patronymic": None,
        "created_at": datetime(2024, 9, 1, 8, 30, tzinfo=timezone.utc),
    }
    view = accounts.user_view(row)
    assert view == {
        "id": MENTOR_ID,
        "email": "a@example.org",
        "role": "mentor",
        "first_name": "A",
        "last_name": "B",
        "patronymic": "",
        "created_at": "2024-09-01T08:30:00+00:00",
        "email_verified": False,
    }
    assert accounts.user_view(dict(row, email_verified_at=row["created_at"]))["email_verified"] is True


@pytest.mark.parametrize(
    "actor, target, allowed",
    [
        ({"user_id": MENTOR_ID, "role": "mentor"}, MENTOR_ID, True),
        ({"user_id": MENTOR_ID.upper(), "role": "mentee"}, MENTOR_ID, True),  # same id, other spelling
        ({"user_id": str(uuid.uuid4()), "role": "mentee"}, MENTOR_ID, False),
        ({"user_id": str(uuid.uuid4()), "role": "mentor"}, MENTOR_ID, False),
        ({"user_id": "not-a-uuid", "role": "mentee"}, "not-a-uuid", False),
        ({"user_id": str(uuid.uuid4()), "role": "moderator"}, MENTOR_ID, True),
    ],
)
def test_who_may_see_an_account(actor, target, allowed):
    if allowed:
        accounts.authorize_view_user(actor, target)
    else:
        with pytest.raises(Forbidden):
            accounts.authorize_view_user(actor, target)


@pytest.mark.parametrize("role", ["mentee", "moderator"])
def test_only_a_mentor_edits_a_mentor_profile(role):
    with pytest.raises(Forbidden):
        accounts.authorize_profile_edit({"user_id": MENTOR_ID, "role": role})
    assert accounts.authorize_profile_edit({"user_id": MENTOR_ID, "role": "mentor"}) == MENTOR_ID


def test_profile_edit_needs_a_stored_mentor_account():
    for row in (None, {"role": "mentee"}):
        with pytest.raises(Forbidden):
            accounts.require_mentor_account(row)
    accounts.require_mentor_account({"role": "mentor"})


# ---- profiles ---------------------------------------------------------------------


def test_profile_needs_at_least_one_known_rubric():
    for rubrics, message_part in (([], "at least one"), (["astrology"], "Must be one of")):
        with pytest.raises(InvalidInput) as info:
            _profile(rubrics=rubrics)
        assert "rubrics" in info.value.fields
        assert message_part in str(info.value.fields["rubrics"])


def test_normalized_profile_drops_repeats_keeps_order_and_strips_text():
    data = profiles.normalize_profile(
        _profile(
            rubrics=["monitoring-evaluation", "digital-technologies", "monitoring-evaluation"],
            links=["https://example.org/a", "https://example.org/a", "https://example.org/b"],
        )
    )
    assert data["rubrics"] == ["monitoring-evaluation", "digital-technologies"]
    assert data["links"] == ["https://example.org/a", "https://example.org/b"]
    assert data["motto"] == "Measure it."
    assert data["place_of_work"] == "" and data["accepting_cases"] is True


def test_event_payload_is_the_v2_snapshot_and_nothing_personal():
    data = profiles.normalize_profile(_profile(accepting_cases=False))
    availability = {"capacity": 2, "away_periods": [{"starts_on": "2026-07-01", "ends_on": "2026-07-14"}]}
    payload = profiles.snapshot_payload(uuid.UUID(MENTOR_ID), data, "accredited", availability)
    assert payload == {
        "mentor_id": MENTOR_ID,
        "rubrics": ["digital-technologies", "monitoring-evaluation"],
        "accepting_cases": False,
        "accredited": True,
        "capacity": 2,
        "away_periods": [{"starts_on": date(2026, 7, 1), "ends_on": date(2026, 7, 14)}],
    }
    version, dumped = dump_payload("MentorProfileUpdated", payload)
    assert version == 2  # what the producer emits now
    assert dumped["away_periods"] == [{"starts_on": "2026-07-01", "ends_on": "2026-07-14"}]
    assert set(dumped) == {"mentor_id", "rubrics", "accepting_cases", "accredited", "capacity", "away_periods"}


@pytest.mark.parametrize(
    "state, accredited",
    [(None, False), ("pending", False), ("rejected", False), ("suspended", False), ("accredited", True)],
)
def test_snapshot_is_accredited_only_on_the_roll(state, accredited):
    data = profiles.normalize_profile(_profile())
    assert profiles.snapshot_payload(MENTOR_ID, data, state, None)["accredited"] is accredited


def test_snapshot_without_profile_or_availability_takes_no_case_and_the_defaults():
    payload = profiles.snapshot_payload(MENTOR_ID, None, None, None)
    assert payload == {
        "mentor_id": MENTOR_ID,
        "rubrics": [],
        "accepting_cases": False,
        "accredited": False,
        "capacity": 3,
        "away_periods": [],
    }


def test_event_payload_breaking_the_contract_fails_at_the_producer():
    with pytest.raises(ValueError, match="breaks its contract"):
        profiles.snapshot_payload(MENTOR_ID, {"rubrics": ["astrology"], "accepting_cases": True}, None, None)
    with pytest.raises(ValueError, match="breaks its contract"):
        profiles.snapshot_payload(MENTOR_ID, None, None, {"capacity": 51, "away_periods": []})


def test_public_view_drops_email_and_anything_private():
    row = {
        "mentor_id": uuid.UUID(MENTOR_ID),
        "first_name": "Irina",
        "last_name": "Sokolova",
        "patronymic": "Petrovna",
        "email": "irina@example.org",
        "password_hash": "$argon2id$x",
        "rubrics": ["teaching-methods"],
        "place_of_work": "MSPU",
        "institute": None,
        "position": "Docent",
        "interests": "Didactics",
        "links": None,
        "motto": "",
        "accepting_cases": True,
        "updated_at": datetime.now(timezone.utc),
        "accreditation_state": "suspended",
        "photo_etag": None,
        "capacity": 4,
        "experience": "private statement",
    }
    view = profiles.public_view(row)
    assert set(view) == {
        "mentor_id",
        "first_name",
        "last_name",
        "patronymic",
        "rubrics",
        "place_of_work",
        "institute",
        "position",
        "interests",
        "links",
        "motto",
        "accepting_cases",
        "accredited",
        "photo_url",
    }
    assert view["mentor_id"] == MENTOR_ID and view["institute"] == "" and view["links"] == []
    assert view["accredited"] is False and view["photo_url"] is None
    assert "irina@example.org" not in repr(view) and "private statement" not in repr(view)


def test_public_view_of_an_accredited_mentor_with_a_photo():
    row = {
        "mentor_id": MENTOR_ID,
        "first_name": "I",
        "last_name": "S",
        "patronymic": "",
        "rubrics": [],
        "accepting_cases": True,
        "accreditation_state": "accredited",
        "photo_etag": "abc123",
    }
    view = profiles.public_view(row)
    assert view["accredited"] is True
    assert view["photo_url"] == f"/api/v1/mentors/{MENTOR_ID}/photo?v=abc123"


def test_rubric_filter():
    assert profiles.rubric_filter(None) is None
    assert profiles.rubric_filter("families-at-risk") == "families-at-risk"
    for bad in ("astrology", 7, ["teaching-methods"]):
        with pytest.raises(InvalidInput) as info:
            profiles.rubric_filter(bad)
        assert set(info.value.fields) == {"rubric"}


def test_profile_ids_keep_order_drop_repeats_and_impossible_ids():
    other = str(uuid.uuid4())
    assert profiles.profile_ids([other, MENTOR_ID.upper(), "nonsense", other]) == [other, MENTOR_ID]
    assert profiles.profile_ids([]) == []


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "a-single-id",
        {"id": MENTOR_ID},
        [MENTOR_ID, 5],
        [str(uuid.uuid4()) for _ in range(profiles.MAX_PROFILE_IDS + 1)],
    ],
)
def test_profile_ids_refuse_what_is_not_a_short_list_of_strings(bad):
    with pytest.raises(InvalidInput) as info:
        profiles.profile_ids(bad)
    assert set(info.value.fields) == {"mentor_ids"}


def test_in_requested_order():
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    views = [{"mentor_id": b}, {"mentor_id": a}]
    assert profiles.in_requested_order(views, [a, str(uuid.uuid4()), b]) == [{"mentor_id": a}, {"mentor_id": b}]


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_blank_names_are_refused(name):
    with pytest.raises(InvalidInput) as info:
        load(
            RegisterSchema(),
            {
                "email": "x@example.org",
                "password": "long-enough-1",
                "role": "mentor",
                "first_name": name,
                "last_name": "B",
            },
        )
    assert set(info.value.fields) == {"first_name"}
