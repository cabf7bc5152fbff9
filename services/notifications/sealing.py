"""notifications' personal texts, sealed with their writer's key (services/common/shredding.py).

What is sealed: a direct message's text (the sender's key) and a calendar event's free texts - title,
description, link, place (the author's key) and the cancellation's reason (the key of whoever cancelled:
the author, or a moderator; it is their text). A sender's or author's erasure (PersonErased shreds their
key here) makes every copy read ``[erased]``, the recipient's view of a conversation included.

What is not sealed, because it holds no text a person wrote: the inbox entries and e-mails about a direct
message or a calendar change name no text (messaging.NOTIFICATION_TEXT, calendar.change_text and
cancellation_text say what happened and when, never the event's title), and ids, times, formats and
rubrics stay plain for the queries. News items are the moderators' public texts and stay plain.

Rows written before sealing are read as they are (``open_field`` passes plaintext through) and sealed by
``seal_legacy_rows``, a data pass the service runs in batches from a timer until none is left. Who wrote
a legacy cancellation's reason was not recorded: it is sealed with the event author's key.
"""

from services.common import shredding

# config.yaml's default of PERSON_KEYS_MASTER_KEY (refused in production: services/common/settings.py)
DEVELOPMENT_MASTER_KEY = "dev-only-notifications-person-keys-master-key-change-me"

MESSAGE_TEXTS = ("text",)
EVENT_TEXTS = ("title", "description", "link", "place")
CANCELLATION_TEXTS = ("cancel_reason",)
# every field any row notifications reads may hold sealed, for opening whatever a query returned
SEALED_TEXTS = (*MESSAGE_TEXTS, *EVENT_TEXTS, *CANCELLATION_TEXTS)


def vault(master_key):
    """notifications' rows: their writers' texts (SEALED_TEXTS) sealed and opened."""
    return shredding.Vault(master_key, texts=SEALED_TEXTS)


# ---- the data pass: rows written in plaintext before sealing ---------------------------------

LEGACY_BATCH = 100

_LEGACY = (
    shredding.PlainColumns("direct_messages", "sender_id", "id", MESSAGE_TEXTS),
    shredding.PlainColumns("calendar_events", "author_id", "id", (*EVENT_TEXTS, *CANCELLATION_TEXTS)),
)


def seal_legacy_rows(cur, vault, limit=LEGACY_BATCH, person_id=None):
    """Seal up to ``limit`` rows of each table that still hold plaintext (written before sealing); how
    many were sealed (0: none is left). With ``person_id``: every row of that person's (an erasure)."""
    return sum(shredding.seal_plain_rows(cur, vault, columns, limit, person_id) for columns in _LEGACY)


def erase(cur, vault, person_id):
    """PersonErased: what of theirs is still plaintext is sealed first, then their key is shredded, so
    every text they wrote here reads ``[erased]``. A repeated erasure finds nothing to do."""
    seal_legacy_rows(cur, vault, limit=None, person_id=person_id)
    shredding.erase_key(cur, person_id)
