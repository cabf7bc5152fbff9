"""Mentor profiles (seed Figure 1): normalization, the public view, the event snapshot. No I/O.

The public view carries names, the profile fields, ``accredited`` and ``photo_url``; never an
e-mail, the availability or the accreditation statement.
"""

from contracts.errors import InvalidInput
from contracts.events import dump_payload
from contracts.rpc_identity import MentorProfileViewSchema
from contracts.rubrics import RUBRIC_SLUGS
from contracts.validation import schema_of
from services.identity.accounts import parse_id, unique
from services.identity.accreditation import is_accredited
from services.identity.availability import capacity_of, periods_of
from services.identity.photos import photo_url

EVENT_TYPE = "MentorProfileUpdated"
MAX_PROFILE_IDS = 100
TEXT_FIELDS = ("place_of_work", "institute", "position", "interests", "motto")
PUBLIC_FIELDS = tuple(f for f in MentorProfileViewSchema().fields if f not in ("accredited", "photo_url"))


def normalize_profile(profile):
    """A profile loaded by MentorProfileSchema, made canonical: rubrics and links without repeats
    (in the mentor's order), free text without surrounding blanks."""
    result = {field: (profile.get(field) or "").strip() for field in TEXT_FIELDS}
    result["rubrics"] = unique(profile["rubrics"])
    result["links"] = unique(link.strip() for link in profile.get("links") or [])
    result["accepting_cases"] = bool(profile.get("accepting_cases", True))
    return result


def snapshot_payload(mentor_id, profile, accreditation_state, availability):
    """The MentorProfileUpdated (v2) payload: everything matching needs of a mentor, nothing personal.

    ``profile`` (rubrics, accepting_cases) and ``availability`` (capacity, away_periods) may be
    None: a mentor without a profile advises in no rubric and takes no case; without availability
    the defaults apply. Emitted after every change of any of them: consumers keep the latest.
    """
    payload = {
        "mentor_id": str(mentor_id),
        "rubrics": list(profile["rubrics"]) if profile else [],
        "accepting_cases": bool(profile["accepting_cases"]) if profile else False,
        "accredited": is_accredited(accreditation_state),
        "capacity": capacity_of(availability),
        "away_periods": periods_of(availability),
    }
    dump_payload(EVENT_TYPE, payload)  # fails here, not at the consumer, if it broke its contract
    return payload


def public_view(row):
    """The public profile: names and profile fields only; any other key in ``row`` is dropped."""
    data = {field: row.get(field) for field in PUBLIC_FIELDS}
    data["mentor_id"] = str(row["mentor_id"])
    data["patronymic"] = data["patronymic"] or ""
    data["rubrics"] = list(data["rubrics"] or [])
    data["links"] = list(data["links"] or [])
    for field in TEXT_FIELDS:
        data[field] = data[field] or ""
    data["accepting_cases"] = bool(data["accepting_cases"])
    data["accredited"] = is_accredited(row.get("accreditation_state"))
    data["photo_url"] = photo_url(data["mentor_id"], row.get("photo_etag"))
    return schema_of(MentorProfileViewSchema).dump(data)


def rubric_filter(rubric):
    """None (all rubrics) or a known rubric slug."""
    if rubric is None or rubric == "":
        return None
    if not isinstance(rubric, str) or rubric not in RUBRIC_SLUGS:
        raise InvalidInput("Unknown rubric.", {"rubric": ["Must be one of: " + ", ".join(RUBRIC_SLUGS) + "."]})
    return rubric


def profile_ids(mentor_ids):
    """The distinct valid ids asked for, in the caller's order; ids that are not UUIDs cannot
    exist and are dropped (the result lists only profiles that exist)."""
    if not isinstance(mentor_ids, (list, tuple)):
        raise InvalidInput("mentor_ids must be a list.", {"mentor_ids": ["Expected a list of ids."]})
    if len(mentor_ids) > MAX_PROFILE_IDS:
        raise InvalidInput("Too many mentor ids.", {"mentor_ids": [f"At most {MAX_PROFILE_IDS} ids per request."]})
    bad = {str(i): ["Expected a string."] for i, value in enumerate(mentor_ids) if not isinstance(value, str)}
    if bad:
        raise InvalidInput("mentor_ids must be strings.", {"mentor_ids": bad})
    return unique(pid for pid in map(parse_id, mentor_ids) if pid is not None)


def in_requested_order(views, ids):
    by_id = {view["mentor_id"]: view for view in views}
    return [by_id[pid] for pid in ids if pid in by_id]
