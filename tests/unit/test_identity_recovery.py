"""Account e-mails and one-time links without I/O: tokens and their hashes, the links, the texts."""

import hashlib

import pytest

from contracts.errors import InvalidInput
from services.identity import recovery
from services.identity.recovery import Settings

SETTINGS = Settings(web_url="https://mentor.example.org", reset_ttl=3600, verification_ttl=86400)


def test_a_token_is_random_and_only_its_sha256_is_kept():
    token, token_hash = recovery.new_token()
    assert len(token) >= 43 and token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_hash
    assert recovery.new_token()[0] != token


def test_settings_come_from_config_with_the_browser_client_as_default():
    assert Settings.from_config({}) == Settings(
        web_url="http://127.0.0.1:8080", reset_ttl=3600, verification_ttl=604800
    )
    configured = Settings.from_config(
        {
            "PUBLIC_WEB_URL": "https://mentor.example.org/",
            "PASSWORD_RESET_TTL_SECONDS": "600",
            "EMAIL_VERIFICATION_TTL_SECONDS": 60,
        }
    )
    assert configured == Settings(web_url="https://mentor.example.org", reset_ttl=600, verification_ttl=60)
    assert configured.ttl(recovery.RESET_PASSWORD) == 600 and configured.ttl(recovery.VERIFY_EMAIL) == 60
    with pytest.raises(ValueError):
        Settings(reset_ttl=0)


def test_the_links_lead_to_the_browser_clients_pages():
    assert SETTINGS.link(recovery.VERIFY_EMAIL, "abc_-1") == "https://mentor.example.org/verify-email?token=abc_-1"
    assert SETTINGS.link(recovery.RESET_PASSWORD, "abc") == "https://mentor.example.org/reset-password?token=abc"


@pytest.mark.parametrize(
    "compose, page", [(recovery.verification_email, "verify-email"), (recovery.reset_email, "reset-password")]
)
def test_link_emails_carry_the_link_in_russian_and_english(compose, page):
    kind, subject, body = compose(SETTINGS, "Анна", "TOKEN123")
    assert f"https://mentor.example.org/{page}?token=TOKEN123" in body
    assert body.count("TOKEN123") == 2  # once per language
    assert "Здравствуйте, Анна!" in body and "Hello, Анна." in body
    assert " / " in subject and kind in ("email_verification", "password_reset")


def test_notices_carry_no_link_and_name_nobody_but_the_owner():
    kind, _, body = recovery.registration_attempt_email(SETTINGS, "Anna")
    assert kind == "registration_attempt" and "token" not in body and "https://mentor.example.org" in body
    kind, _, body = recovery.failed_sign_ins_email(SETTINGS, "", 7, 900)
    assert kind == "failed_sign_ins" and "7" in body and "15" in body and "Hello." in body


def test_an_invalid_link_is_a_400_on_the_token_field():
    error = recovery.invalid_link()
    assert isinstance(error, InvalidInput) and list(error.fields) == ["token"]
