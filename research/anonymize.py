"""Turn one case event into a research row: pseudonymous ids, scrubbed (or dropped) free text.

Rules are by field name and apply at any depth (inside forms, proposals, questions, answers,
solutions, reflections...):

* person ids and other linkable ids (``*_id`` / ``*_ids`` keys, ``asked_by``, the case id)
  become ``hmac_sha256(key, value)[:16]``: stable for one key, so two exports join;
* ids the case derives for its own parts (question, solution, message, opinion, bank hint)
  are uuid5 values of the case id, not reversible and not personal: kept, so answers and
  ratings still point at their question or solution;
* free text is scrubbed with the shared anonymizer, or removed (``drop_text``);
* the case number and the event's technical topic are dropped;
* a string under a key these rules do not know is scrubbed as free text (fail safe).
"""

import hashlib
import hmac
import uuid

from services.common.anonymizer import scrub

PERSON_ID_KEYS = frozenset(
    {
        "author_id",
        "mentor_id",
        "sender_id",
        "recipient_id",
        "colleague_id",
        "colleague_ids",
        "excluded_mentor_ids",
        "asked_by",
    }
)
KEPT_ID_KEYS = frozenset({"id", "question_id", "solution_id", "message_id", "opinion_id", "bank_id"})
TEXT_KEYS = frozenset(
    {
        "essence",
        "actions_taken",
        "difficulty",
        "question",
        "text",
        "reason",
        "title",
        "reference",
        "actions",
        "learned",
        "comment",
    }
)
DROPPED_KEYS = frozenset({"number", "originator_topic"})
# Fields whose values are codes, numbers, flags or times (no person, no free text).
STRUCTURAL_KEYS = frozenset(
    {
        "form",
        "participants",
        "rubrics",
        "matched_rubrics",
        "mode",
        "urgency",
        "group_discussion_consent",
        "publication_consent",
        "round",
        "next_round",
        "proposals",
        "score",
        "questions",
        "kind",
        "answers",
        "at",
        "asked_at",
        "answered_at",
        "created_at",
        "sent_at",
        "revision",
        "materials",
        "reflection",
        "problem_solved",
        "helpfulness",
        "opinion",
        "outcome",
        "reasons",
        "recent_assignments",
    }
)


class Pseudonymizer:
    def __init__(self, key):
        if not key:
            raise ValueError("a pseudonym key is required")
        self._key = key.encode("utf-8") if isinstance(key, str) else key

    def __call__(self, value):
        if value is None:
            return None
        return hmac.new(self._key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _is_linkable_id(key):
    return key in PERSON_ID_KEYS or ((key.endswith("_id") or key.endswith("_ids")) and key not in KEPT_ID_KEYS)


def anonymize_data(data, pseudonym, drop_text=False):
    """``data``: the event's fields, already JSON-able (``services.cases.views.jsonable``)."""
    return _walk(data, pseudonym, drop_text, key=None)


def _walk(value, pseudonym, drop_text, key):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in DROPPED_KEYS:
                continue
            if k == "helpfulness" and isinstance(v, dict):  # solution id -> rating
                out[k] = dict(v)
                continue
            if k in TEXT_KEYS and drop_text:
                continue
            if _is_linkable_id(k):
                out[k] = _pseudonymize(v, pseudonym)
                continue
            out[k] = _walk(v, pseudonym, drop_text, key=k)
        return out
    if isinstance(value, list):
        return [_walk(v, pseudonym, drop_text, key=key) for v in value]
    if isinstance(value, str):
        if key in STRUCTURAL_KEYS or key in KEPT_ID_KEYS:
            return value
        return scrub(value)  # known free text, or a string under a key we do not know
    return value


def _pseudonymize(value, pseudonym):
    if isinstance(value, list):
        return [_pseudonymize(v, pseudonym) for v in value]
    if isinstance(value, uuid.UUID):
        value = str(value)
    return pseudonym(value) if value is not None else None
