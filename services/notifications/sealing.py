"""notifications' personal texts, sealed with their writer's key (services/common/shredding.py).

What is sealed: a direct message's text (the sender's key) and a calendar event's free texts - title,
description, link, place (the author's key) and the cancellation's reason (the key of whoever cancelled:
the author, or a moderator; it is their text). A sender's or author's erasure (PersonErased shreds their
key here) makes every copy read ``[erased]``, the recipient's view of a conversation included.

What is not sealed, because it holds no text a person wrote: the inbox entries and e-mails about a direct
message or a calendar change name no text (messaging.NOTIFICATION_TEXT, calendar.change_text and
cancellation_text say what happened and when, never the event's title), and ids, times, formats and
rubrics stay plain for the queries. News items are the moderators' public texts and stay plain.

Rows written before sealing are read as they are (``open_field`` passes plaintext through).
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
