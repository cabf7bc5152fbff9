"""Notification e-mails: the outbox rows written with inbox entries, sent over SMTP by a timer.

- never lost: a row stays ``pending`` until the SMTP server took the message; a failed attempt
  is retried with exponential backoff (``attempts``, ``next_attempt_at``, ``last_error``) and
  only after ``max_attempts`` is the row marked ``failed`` (and logged as an error);
- never sent twice for one event and recipient: the outbox is unique on (source event,
  recipient), and a row is claimed under ``FOR UPDATE SKIP LOCKED`` with a lease, so two
  senders (two processes) never take the same row. A process that dies between the SMTP
  server's "250 OK" and recording it sends that one message again after the lease: the
  Message-ID is the row's id, stable across attempts, so a mail client shows it once;
- the address is asked of identity (``contact_for``) only when sending, never stored here;
- a row for MODERATORS is fanned out to one row per moderator (``moderator_contacts``) who
  wants that kind by e-mail, each then sent, retried and deduplicated on its own.

smtplib is the standard library's: under eventlet's monkey patching its socket is cooperative.
"""
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from services.notifications import preferences
from services.notifications.messages import MODERATORS

MAX_BACKOFF_SECONDS = 3600.0
CLAIM_LEASE_SECONDS = 120.0  # longer than one SMTP exchange may take (timeout included)
BATCH_SIZE = 20
FOOTER = ("Sign in to the platform to see it.\n\n"
          "-- \nMCU \"Your Mentor\". You get this e-mail because of your notification preferences; "
          "turn this kind off there.")


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
        return cls(host=str(config.get("SMTP_HOST", "127.0.0.1")), port=int(config.get("SMTP_PORT", 1025)),
                   sender=str(config.get("SMTP_FROM") or "noreply@mentor-platform.local"),
                   user=str(config.get("SMTP_USER") or ""), password=str(config.get("SMTP_PASSWORD") or ""),
                   starttls=_flag(config.get("SMTP_STARTTLS", False)))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 30.0

    @classmethod
    def from_config(cls, config):
        return cls(max_attempts=int(config.get("EMAIL_MAX_ATTEMPTS", 8)),
                   base_seconds=float(config.get("EMAIL_RETRY_SECONDS", 30)))

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


def build_message(row, contact, settings):
    """The e-mail of one outbox row for one recipient (``contact`` from identity)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((contact["display_name"], contact["email"]))
    message["Subject"] = row["text"] if len(row["text"]) <= 150 else row["text"][:147] + "..."
    message["Date"] = format_datetime(row["created_at"])
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "mentor-platform.local"
    message["Message-ID"] = f"<{row['id']}@{domain}>"
    message["X-Notification-Kind"] = row["kind"]
    greeting = f"Hello, {contact['display_name']}." if contact.get("display_name") else "Hello."
    message.set_content(f"{greeting}\n\n{row['text']}\n\n{FOOTER}\n")
    return message


def send(message, settings):
    """Hand one message to the SMTP server; raises on any failure (the caller retries)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


# ---- the outbox table ------------------------------------------------------------------------

def claim_due(cur, limit=BATCH_SIZE, lease_seconds=CLAIM_LEASE_SECONDS):
    """Take the due rows for one attempt: counted now, and hidden from other senders for the lease."""
    cur.execute("""
        UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = now() + %s
        WHERE id IN (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, source_event_id, recipient, kind, text, attempts, created_at""",
                (timedelta(seconds=lease_seconds), limit))
    return sorted(cur.fetchall(), key=lambda r: r["created_at"])


def release(cur, row_ids):
    """Give claimed rows back, due now and their attempt not counted (the sender paused before them)."""
    if row_ids:
        cur.execute("UPDATE email_outbox SET attempts = attempts - 1, next_attempt_at = now() "
                    "WHERE id = ANY(%s::uuid[]) AND status = 'pending'", (list(row_ids),))


def mark_sent(cur, row_id):
    cur.execute("UPDATE email_outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = %s",
                (row_id,))


def mark_failed_attempt(cur, row, error, policy, give_up=False):
    """Schedule the next attempt, or give the row up; returns the new status."""
    if give_up or policy.gives_up(row["attempts"]):
        cur.execute("UPDATE email_outbox SET status = 'failed', last_error = %s WHERE id = %s",
                    (error[:1000], row["id"]))
        return "failed"
    cur.execute("UPDATE email_outbox SET next_attempt_at = now() + %s, last_error = %s WHERE id = %s",
                (timedelta(seconds=policy.backoff(row["attempts"])), error[:1000], row["id"]))
    return "pending"


def fan_out(cur, row, moderator_ids):
    """Replace the moderators' row by one row per moderator who wants this kind by e-mail."""
    wanted = preferences.recipients_wanting_email(cur, [m for m in moderator_ids if m != MODERATORS], row["kind"])
    for moderator_id in wanted:
        cur.execute("INSERT INTO email_outbox (source_event_id, recipient, kind, text, created_at) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source_event_id, recipient) DO NOTHING",
                    (row["source_event_id"], moderator_id, row["kind"], row["text"], row["created_at"]))
    cur.execute("UPDATE email_outbox SET status = 'fanned_out', sent_at = now(), last_error = NULL WHERE id = %s",
                (row["id"],))
    return wanted
