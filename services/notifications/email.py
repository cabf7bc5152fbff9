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

The SMTP transport, its settings and the retry policy are services/common/mail.py (identity's
account e-mails use the same); this module is notifications' outbox.
"""

from datetime import timedelta
from email.utils import formataddr

from services.common import metrics
from services.common.mail import MAX_BACKOFF_SECONDS, Mailer, RetryPolicy, SmtpSettings, permanent, plain_message, send
from services.notifications import preferences
from services.notifications.messages import MODERATORS

__all__ = (
    "MAX_BACKOFF_SECONDS",
    "Mailer",
    "RetryPolicy",
    "SmtpSettings",
    "permanent",
    "send",
    "build_message",
    "claim_due",
    "release",
    "mark_sent",
    "mark_failed_attempt",
    "fan_out",
)

CLAIM_LEASE_SECONDS = 120.0  # longer than one SMTP exchange may take (timeout included)
BATCH_SIZE = 20  # rows claimed at once (one lease); a round claims batch after batch
ROUND_MAX = 2000  # rows one round sends at most (EMAIL_ROUND_MAX), so a stop never waits long
FOOTER = (
    "Sign in to the platform to see it.\n\n"
    '-- \nMCU "Your Mentor". You get this e-mail because of your notification preferences; '
    "turn this kind off there."
)


def build_message(row, contact, settings):
    """The e-mail of one outbox row for one recipient (``contact`` from identity)."""
    greeting = f"Hello, {contact['display_name']}." if contact.get("display_name") else "Hello."
    return plain_message(
        settings,
        formataddr((contact["display_name"], contact["email"])),
        row["text"] if len(row["text"]) <= 150 else row["text"][:147] + "...",
        f"{greeting}\n\n{row['text']}\n\n{FOOTER}\n",
        row["id"],
        row["created_at"],
        {"X-Notification-Kind": row["kind"]},
    )


# ---- the outbox table ------------------------------------------------------------------------


def claim_due(cur, limit=BATCH_SIZE, lease_seconds=CLAIM_LEASE_SECONDS):
    """Take the due rows for one attempt: counted now, and hidden from other senders for the lease."""
    cur.execute(
        """
        UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = now() + %s
        WHERE id IN (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, source_event_id, recipient, kind, text, attempts, created_at""",
        (timedelta(seconds=lease_seconds), limit),
    )
    return sorted(cur.fetchall(), key=lambda r: r["created_at"])


def release(cur, row_ids):
    """Give claimed rows back, due now and their attempt not counted (the sender paused before them)."""
    if row_ids:
        cur.execute(
            "UPDATE email_outbox SET attempts = attempts - 1, next_attempt_at = now() "
            "WHERE id = ANY(%s::uuid[]) AND status = 'pending'",
            (list(row_ids),),
        )


def mark_sent(cur, row_ids):
    """Rows the SMTP server took, marked in one statement (a batch's: one commit, not one each; a
    crash before it sends them again after the lease, under the same Message-ID)."""
    if row_ids:
        cur.execute(
            "UPDATE email_outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = ANY(%s::uuid[])",
            (list(row_ids),),
        )
        metrics.email_outcome("sent", len(row_ids))


def mark_failed_attempt(cur, row, error, policy, give_up=False):
    """Schedule the next attempt, or give the row up; returns the new status."""
    if give_up or policy.gives_up(row["attempts"]):
        cur.execute(
            "UPDATE email_outbox SET status = 'failed', last_error = %s WHERE id = %s", (error[:1000], row["id"])
        )
        metrics.email_outcome("failed")
        return "failed"
    metrics.email_outcome("retried")
    cur.execute(
        "UPDATE email_outbox SET next_attempt_at = now() + %s, last_error = %s WHERE id = %s",
        (timedelta(seconds=policy.backoff(row["attempts"])), error[:1000], row["id"]),
    )
    return "pending"


def fan_out(cur, row, moderator_ids):
    """Replace the moderators' row by one row per moderator who wants this kind by e-mail."""
    wanted = preferences.recipients_wanting_email(cur, [m for m in moderator_ids if m != MODERATORS], row["kind"])
    for moderator_id in wanted:
        cur.execute(
            "INSERT INTO email_outbox (source_event_id, recipient, kind, text, created_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source_event_id, recipient) DO NOTHING",
            (row["source_event_id"], moderator_id, row["kind"], row["text"], row["created_at"]),
        )
        metrics.email_outcome("queued", cur.rowcount)
    cur.execute(
        "UPDATE email_outbox SET status = 'fanned_out', sent_at = now(), last_error = NULL WHERE id = %s", (row["id"],)
    )
    return wanted
