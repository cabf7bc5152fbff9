"""Password hashing and verification (argon2id), pure CPU: no database, no broker."""

import pytest
from argon2 import PasswordHasher

from services.identity.passwords import HashParameters, PasswordHashing

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


def test_the_hash_cost_is_a_setting_with_rfc_9106s_defaults():
    assert HashParameters.from_config({}) == HashParameters(3, 65536, 4)
    chosen = HashParameters.from_config(
        {"PASSWORD_HASH_TIME_COST": "2", "PASSWORD_HASH_MEMORY_KIB": " 19456 ", "PASSWORD_HASH_PARALLELISM": 1}
    )
    assert chosen == HashParameters(2, 19456, 1) and chosen.below_floor() == []
    hasher = chosen.hasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (2, 19456, 1)
    assert PasswordHashing(hasher).hash("x").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("PASSWORD_HASH_TIME_COST", "three", "PASSWORD_HASH_TIME_COST must be a whole number, not 'three'"),
        ("PASSWORD_HASH_TIME_COST", "0", "PASSWORD_HASH_TIME_COST must be at least 1"),
        ("PASSWORD_HASH_PARALLELISM", "-1", "PASSWORD_HASH_PARALLELISM must be at least 1"),
        ("PASSWORD_HASH_MEMORY_KIB", "16", "PASSWORD_HASH_MEMORY_KIB must be at least 8 KiB per lane"),
    ],
)
def test_a_hash_cost_argon2_cannot_take_names_its_setting(setting, value, message):
    with pytest.raises(ValueError, match=message):
        HashParameters.from_config({setting: value})


def test_a_hash_made_at_another_cost_verifies_and_asks_to_be_rehashed():
    """The test sessions' cheap cost, then the production one: a sign-in moves the hash to the service's."""
    cheap = PasswordHashing(HashParameters(1, 1024, 1).hasher()).hash("s3cret-passw0rd")
    result = PasswordHashing(HashParameters(2, 19456, 1).hasher()).verify(cheap, "s3cret-passw0rd")
    assert result.ok and result.needs_rehash
