"""Sending e-mail over SMTP, shared by every service that keeps an e-mail outbox (notifications'
``email_outbox``, identity's ``account_email_outbox``): the server's settings, the retry policy,
which failures are final, and the one call that hands a message to the server.

Each service keeps its own outbox table (written in the same transaction as what the mail reports)
and its own timer; only this transport and its policy are shared, so a fix here reaches both.
smtplib is the standard library's: under eventlet's monkey patching its socket is cooperative.

A sender hands a whole round of due messages to one ``Mailer``: one SMTP connection (and one
STARTTLS and login) for all of them, where a connection per message cost a TCP and SMTP handshake
each (bench/bench_email.py). A connection the server closed meanwhile is opened again once.
"""

import smtplib
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

MAX_BACKOFF_SECONDS = 3600.0


def _flag(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config):
        return cls(
            host=str(config.get("SMTP_HOST", "127.0.0.1")),
            port=int(config.get("SMTP_PORT", 1025)),
            sender=str(config.get("SMTP_FROM") or "noreply@mentor-platform.local"),
            user=str(config.get("SMTP_USER") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=_flag(config.get("SMTP_STARTTLS", False)),
        )

    @property
    def domain(self):
        """The sender's domain, for Message-IDs."""
        return parseaddr(self.sender)[1].rpartition("@")[2] or "mentor-platform.local"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0

    @classmethod
    def from_config(cls, config):
        return cls(
            max_attempts=int(config.get("EMAIL_MAX_ATTEMPTS", 8)),
            base_seconds=float(config.get("EMAIL_RETRY_SECONDS", 30)),
        )

    def backoff(self, attempt):
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...): base, 2 base, 4 base ...
        up to an hour (with the defaults: 30 s, 1 min, 2 min ... about an hour and a half in all)."""
        return min(MAX_BACKOFF_SECONDS, max(self.base_seconds, 0.0) * 2 ** (max(attempt, 1) - 1))

    def gives_up(self, attempts):
        return attempts >= self.max_attempts


def permanent(exc):
    """An SMTP answer that no retry changes: every recipient refused with a 5xx code."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(500 <= code < 600 for code, _ in exc.recipients.values())
    return False


def plain_message(settings, to, subject, body, message_id, created_at, headers=None):
    """A plain-text message (UTF-8) from the platform's sender; ``message_id`` is stable across
    attempts (the outbox row's id), so a mail client shows a message sent twice once.

    Built as a MIMEText (email.policy.compat32) rather than an EmailMessage: the same message on the
    wire (non-ASCII headers RFC 2047-encoded, the body in UTF-8) for a sixth of the CPU, which bounded
    how many e-mails a second one sender sends (bench/bench_email.py)."""
    message = MIMEText(body, "plain", "utf-8")
    message["From"] = _address(settings.sender)
    message["To"] = _address(to)
    message["Subject"] = _header(subject)
    message["Date"] = format_datetime(created_at)
    message["Message-ID"] = f"<{message_id}@{settings.domain}>"
    for name, value in (headers or {}).items():
        message[name] = _header(value)
    return message


def _address(value):
    """An address header: its display name encoded if it is not ASCII (formataddr), the address kept."""
    return value if value.isascii() else formataddr(parseaddr(value))


def _header(value):
    """compat32 writes a non-ASCII header as it is: encode it (RFC 2047), ASCII ones untouched."""
    return value if value.isascii() else Header(value, "utf-8").encode()


class Mailer:
    """One SMTP connection for many messages: ``with Mailer(settings) as mailer: mailer.send(m)``.

    Opened at the first message. A message whose transaction fails (a recipient refused, a 4xx)
    raises as ``send`` does, the connection reset for the next; a connection found closed by the
    server (idle timeout, restart) is opened again and the message sent on the new one; any other
    failure of the connection drops it, and the next message opens a new one."""

    def __init__(self, settings):
        self.settings = settings
        self.smtp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _open(self):
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls:
                smtp.starttls()
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        self.smtp = smtp

    def send(self, message):
        """Hand one message to the server; raises on any failure (the caller retries)."""
        reused = self.smtp is not None
        if not reused:
            self._open()
        try:
            self.smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._drop()
            if not reused:
                raise
            self._open()  # the server closed an idle connection: once more on a new one
            try:
                self.smtp.send_message(message)
            except BaseException:
                self._drop()
                raise
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            raise  # this message's transaction failed (smtplib reset it); the connection is fine
        except BaseException:
            self._drop()
            raise

    def _drop(self):
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def close(self):
        """QUIT, politely; a connection already broken is just dropped."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._drop()


def send(message, settings):
    """Hand one message to the SMTP server on a connection of its own; raises on any failure."""
    with Mailer(settings) as mailer:
        mailer.send(message)
