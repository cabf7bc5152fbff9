"""Account e-mails and their one-time links: e-mail verification, password reset, "someone tried
to register with your address", and "failed sign-ins on your account". No I/O.

A link's token is 256 random bits; identity keeps only its sha256 (``token_hash``), so a leaked
database or backup holds no usable link, and the token is never logged. The e-mails are plain
text, Russian then English in one message (the account has no language setting).
"""

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from contracts.errors import InvalidInput

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"

BAD_LINK = "The link is not valid: it is wrong, already used or expired. Ask for a new one."

DEFAULT_WEB_URL = "http://127.0.0.1:8080"
# At most this many links of one kind work at once per account: asking for more sends nothing (the
# answer is the same), so nobody can flood a person's mailbox through the reset or resend routes.
MAX_LIVE_LINKS = 3
# "Someone tried to register with your address" at most once an hour per account, however many try.
REGISTRATION_ATTEMPT_QUIET_SECONDS = 3600
SIGNATURE = '-- \nМГПУ «Твой наставник» / MCU "Your Mentor"'


@dataclass(frozen=True)
class Settings:
    """PUBLIC_WEB_URL (the browser client, where the links lead), the links' lifetimes."""

    web_url: str = DEFAULT_WEB_URL
    reset_ttl: int = 3600
    verification_ttl: int = 7 * 24 * 3600

    def __post_init__(self):
        if self.reset_ttl < 1 or self.verification_ttl < 1:
            raise ValueError("link lifetimes must be positive")

    @classmethod
    def from_config(cls, config):
        return cls(
            web_url=str(config.get("PUBLIC_WEB_URL") or DEFAULT_WEB_URL).rstrip("/"),
            reset_ttl=int(config.get("PASSWORD_RESET_TTL_SECONDS", cls.reset_ttl)),
            verification_ttl=int(config.get("EMAIL_VERIFICATION_TTL_SECONDS", cls.verification_ttl)),
        )

    def ttl(self, purpose):
        return self.reset_ttl if purpose == RESET_PASSWORD else self.verification_ttl

    def link(self, purpose, token):
        page = "reset-password" if purpose == RESET_PASSWORD else "verify-email"
        return f"{self.web_url}/{page}?token={quote(token)}"


def invalid_link():
    """The 400 of a wrong, used or expired link, on the field ``token``."""
    return InvalidInput(BAD_LINK, {"token": [BAD_LINK]})


def new_token():
    """``(token, its hash)``: the token goes into the e-mail only, the hash into the database."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _hours(seconds):
    hours = seconds / 3600
    return f"{hours:g}"


def _hello(first_name, russian):
    if russian:
        return f"Здравствуйте, {first_name}!" if first_name else "Здравствуйте!"
    return f"Hello, {first_name}." if first_name else "Hello."


def verification_email(settings, first_name, token):
    """``(kind, subject, body)`` of the e-mail with the verification link."""
    link, hours = settings.link(VERIFY_EMAIL, token), _hours(settings.verification_ttl)
    body = (
        f"{_hello(first_name, True)}\n\n"
        f"Чтобы подтвердить адрес электронной почты на платформе «Твой наставник», откройте ссылку:\n"
        f"{link}\n\nСсылка одноразовая и действует {hours} ч. Если вы не регистрировались, "
        f"просто не отвечайте на это письмо.\n\n"
        f"{_hello(first_name, False)}\n\n"
        f'To confirm your e-mail address on the MCU "Your Mentor" platform, open this link:\n'
        f"{link}\n\nIt works once, for {hours} hours. If you did not register, ignore this e-mail.\n\n"
        f"{SIGNATURE}\n"
    )
    return "email_verification", "Подтвердите адрес e-mail / Confirm your e-mail address", body


def reset_email(settings, first_name, token):
    link, hours = settings.link(RESET_PASSWORD, token), _hours(settings.reset_ttl)
    body = (
        f"{_hello(first_name, True)}\n\n"
        f"Кто-то (надеемся, вы) попросил сбросить пароль вашей учётной записи. Новый пароль можно "
        f"задать по ссылке:\n{link}\n\nСсылка одноразовая и действует {hours} ч; после смены пароля "
        f"все ваши сеансы будут завершены. Если вы не просили сброс, ничего не делайте: пароль "
        f"останется прежним.\n\n"
        f"{_hello(first_name, False)}\n\n"
        f"Someone (we hope you) asked to reset the password of your account. Choose a new one here:\n"
        f"{link}\n\nThe link works once, for {hours} hours; setting a new password signs you out "
        f"everywhere. If you did not ask, do nothing: your password stays as it is.\n\n{SIGNATURE}\n"
    )
    return "password_reset", "Сброс пароля / Password reset", body


def registration_attempt_email(settings, first_name):
    body = (
        f"{_hello(first_name, True)}\n\n"
        f"Кто-то попытался зарегистрироваться на платформе «Твой наставник» с вашим адресом "
        f"электронной почты. Учётная запись с этим адресом у вас уже есть. Если это были вы, "
        f"войдите или восстановите пароль: {settings.web_url}\n"
        f"Если нет, ничего не делайте: ваша учётная запись не изменилась.\n\n"
        f"{_hello(first_name, False)}\n\n"
        f'Someone tried to register on the MCU "Your Mentor" platform with your e-mail address, which '
        f"already has an account. If it was you, sign in or reset your password: {settings.web_url}\n"
        f"If it was not, do nothing: your account is unchanged.\n\n{SIGNATURE}\n"
    )
    return (
        "registration_attempt",
        "Попытка регистрации с вашим адресом / Someone tried to register with your address",
        body,
    )


def failed_sign_ins_email(settings, first_name, failures, window_seconds):
    minutes = max(1, round(window_seconds / 60))
    body = (
        f"{_hello(first_name, True)}\n\n"
        f"За последние {minutes} мин. было {failures} неудачных попыток войти в вашу учётную запись "
        f"с неверным паролем. Если это были не вы, ваш пароль выдержал; если он простой или "
        f"используется где-то ещё, смените его: {settings.web_url}\n\n"
        f"{_hello(first_name, False)}\n\n"
        f"There were {failures} failed sign-ins to your account with a wrong password in the last "
        f"{minutes} minutes. If it was not you, your password held; if it is simple or used elsewhere, "
        f"change it: {settings.web_url}\n\n{SIGNATURE}\n"
    )
    return "failed_sign_ins", "Неудачные попытки входа / Failed sign-ins to your account", body
