"""services/identity/erasure.py: who may be erased, the event it publishes (the id alone), the answer."""

import uuid

import pytest

from contracts.errors import Forbidden, NotFound
from contracts.events import PayloadBreaksContract, dump_payload
from services.identity import erasure

PERSON = str(uuid.uuid4())


def test_the_event_carries_the_id_alone():
    assert dump_payload("PersonErased", erasure.event_payload(PERSON)) == (1, {"person_id": PERSON})
    with pytest.raises(PayloadBreaksContract):  # strict: nothing else of the person may travel
        dump_payload("PersonErased", {"person_id": PERSON, "email": "anna@example.org"})


def test_a_moderator_erases_mentees_and_mentors_not_moderators():
    for role in ("mentee", "mentor"):
        erasure.require_erasable({"id": PERSON, "role": role})
    with pytest.raises(Forbidden):
        erasure.require_erasable({"id": PERSON, "role": "moderator"})
    with pytest.raises(NotFound):
        erasure.require_erasable(None)


@pytest.mark.parametrize("wrong", ["", "not-an-id", None, 42, f"{PERSON}x"])
def test_anything_but_an_id_is_no_such_person(wrong):
    with pytest.raises(NotFound):
        erasure.person_id_argument(wrong)


def test_the_answer_names_the_person_and_the_sessions_ended():
    assert erasure.person_id_argument(PERSON.upper()) == PERSON
    assert erasure.erased_view(PERSON, 2) == {"person_id": PERSON, "erased": True, "revoked_sessions": 2}
