"""services/common/shredding.py: the sealed-field format, sealing and opening, erasure by losing the key."""

import uuid

import pytest

from services.common import shredding
from services.common.shredding import ERASED, SealedFieldError

PERSON = str(uuid.uuid4())
OTHER = str(uuid.uuid4())


def keys(**found):
    return lambda person: found.get(person)


def test_a_sealed_text_opens_to_what_was_sealed_and_holds_none_of_it():
    key = shredding.new_key()
    sealed = shredding.seal(key, PERSON, "Анна Смирнова, школа № 1234")
    assert sealed.startswith(f"shred:v1:{PERSON}:")
    assert "Анна" not in sealed and "1234" not in sealed
    assert shredding.open_field(sealed, keys(**{PERSON: key})) == "Анна Смирнова, школа № 1234"
    assert shredding.seal(key, PERSON, "same") != shredding.seal(key, PERSON, "same")  # a fresh nonce each time


def test_the_format_names_its_version_and_subject():
    sealed = shredding.seal(shredding.new_key(), PERSON, "x")
    prefix, version, subject, body = sealed.split(":")
    assert (prefix, version, subject) == ("shred", "v1", PERSON) and body
    assert shredding.subject_of(sealed) == PERSON
    assert shredding.is_sealed(sealed) and not shredding.is_sealed("plain text") and not shredding.is_sealed(3)


def test_an_erased_persons_field_reads_erased():
    sealed = shredding.seal(shredding.new_key(), PERSON, "Анна")
    assert shredding.open_field(sealed, keys()) == ERASED == "[erased]"
    blob = shredding.seal_bytes(shredding.new_key(), PERSON, b"\x89PNG photo")
    assert shredding.open_bytes(blob, keys()) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1],  # the ciphertext or tag changed
        lambda s: s.replace(PERSON, OTHER),  # moved to another person
        lambda s: s.replace("shred:v1:", "shred:v2:"),  # an unknown version
        lambda s: s[: len(f"shred:v1:{PERSON}:") + 8],  # truncated
    ],
)
def test_a_tampered_field_fails_to_open(tamper):
    key = shredding.new_key()
    sealed = shredding.seal(key, PERSON, "Анна Смирнова")
    with pytest.raises(SealedFieldError):
        shredding.open_field(tamper(sealed), keys(**{PERSON: key, OTHER: key}))


def test_a_field_sealed_with_another_key_fails_to_open():
    sealed = shredding.seal(shredding.new_key(), PERSON, "Анна")
    with pytest.raises(SealedFieldError):
        shredding.open_field(sealed, keys(**{PERSON: shredding.new_key()}))


def test_plaintext_written_before_sealing_reads_as_it_is_and_empty_stays_empty():
    assert shredding.open_field("Анна", keys()) == "Анна"
    assert shredding.open_field(None, keys()) is None
    assert shredding.seal(shredding.new_key(), PERSON, "") == ""
    assert shredding.open_bytes(b"\xff\xd8 jpeg", keys()) == b"\xff\xd8 jpeg"


def test_bytes_round_trip_and_tamper():
    key = shredding.new_key()
    blob = shredding.seal_bytes(key, PERSON, b"\xff\xd8\xff photo bytes")
    assert blob.startswith(f"shred:v1:{PERSON}:".encode()) and b"photo bytes" not in blob
    assert shredding.open_bytes(memoryview(blob), keys(**{PERSON: key})) == b"\xff\xd8\xff photo bytes"
    with pytest.raises(SealedFieldError):
        shredding.open_bytes(blob[:-1] + bytes([blob[-1] ^ 1]), keys(**{PERSON: key}))


def test_subjects_are_found_in_lists_and_bytes():
    key = shredding.new_key()
    values = [shredding.seal(key, PERSON, "a"), [shredding.seal(key, OTHER, "b"), "plain"], "plain", None, 3]
    assert shredding.subjects(values) == {PERSON, OTHER}
    assert shredding.subjects([shredding.seal_bytes(key, PERSON, b"x")]) == {PERSON}


def test_a_wrapped_key_unwraps_only_for_its_person_under_its_master_key():
    wrapping = shredding.derive_key("a master key of thirty-two characters", "person-keys/wrap/v1")
    key = shredding.new_key()
    wrapped = shredding.wrap(wrapping, PERSON, key)
    assert key not in wrapped and shredding.unwrap(wrapping, PERSON, wrapped) == key
    with pytest.raises(SealedFieldError):
        shredding.unwrap(wrapping, OTHER, wrapped)
    with pytest.raises(SealedFieldError):
        shredding.unwrap(shredding.derive_key("another master key, also long enough", "x"), PERSON, wrapped)


def test_derived_keys_differ_by_purpose_and_the_blind_index_is_keyed():
    master = "a master key of thirty-two characters"
    assert shredding.derive_key(master, "a") != shredding.derive_key(master, "b")
    index_key = shredding.derive_key(master, "identity/email-index/v1")
    digest = shredding.blind_index(index_key, "anna@example.org")
    assert digest == shredding.blind_index(index_key, "anna@example.org") and "anna" not in digest
    assert digest != shredding.blind_index(shredding.derive_key("another master key, long", "i"), "anna@example.org")
    with pytest.raises(ValueError):
        shredding.derive_key("short", "a")
