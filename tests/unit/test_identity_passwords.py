"""Password hashing and verification (argon2id), pure CPU: no database, no broker."""

import pytest
from argon2 import PasswordHasher

from services.identity.passwords import PasswordHashing

FAST = dict(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module")
def hashing():
    return PasswordHashing(PasswordHasher(**FAST))


def test_default_hasher_is_argon2id_and_salted():
    hashing = PasswordHashing()
    first, second = hashing.hash("correct horse battery"), hashing.hash("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt every time
    assert "correct horse battery" not in first


def test_right_password_verifies(hashing):
    stored = hashing.hash("s3cret-passw0rd")
    result = hashing.verify(stored, "s3cret-passw0rd")
    assert result.ok is True
    assert result.needs_rehash is False


@pytest.mark.parametrize("attempt", ["s3cret-passw0rd ", "S3cret-passw0rd", "", "s3cret-passw0r"])
def test_wrong_password_does_not_verify(hashing, attempt):
    stored = hashing.hash("s3cret-passw0rd")
    assert hashing.verify(stored, attempt).ok is False


def test_unknown_account_is_verified_against_a_dummy_hash(hashing):
    assert hashing.verify(None, "anything at all").ok is False
    assert hashing.dummy_hash.startswith("$argon2id$")
    # the dummy hash is made once and reused: unknown e-mails cost one verify, like known ones
    assert hashing.dummy_hash is hashing.dummy_hash


def test_malformed_stored_hash_is_a_mismatch_not_a_crash(hashing):
    assert hashing.verify("not-an-argon2-hash", "whatever").ok is False
    assert hashing.verify("$argon2id$v=19$m=1024,t=1,p=1$broken", "whatever").ok is False


def test_hash_made_with_weaker_parameters_asks_for_rehash(hashing):
    weak = PasswordHashing(PasswordHasher(time_cost=1, memory_cost=512, parallelism=1))
    stored = weak.hash("s3cret-passw0rd")
    result = hashing.verify(stored, "s3cret-passw0rd")
    assert result.ok is True
    assert result.needs_rehash is True
