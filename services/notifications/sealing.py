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


class Vault:
    """Sealing and opening notifications' rows in the caller's transaction, with the persons' keys of
    ``person_keys`` wrapped under the master key (PERSON_KEYS_MASTER_KEY)."""

    def __init__(self, master_key):
        self.keys = shredding.KeyStore(master_key)

    def seal(self, cur, person_id, data, texts):
        """A copy of ``data`` with the named texts sealed for ``person_id`` (None and empty texts as they
        are; an erased person's as ``ERASED``: their key is never made again)."""
        key = self.keys.key_for_sealing(cur, person_id)
        sealed = dict(data)
        for name in texts:
            value = sealed.get(name)
            if value:
                sealed[name] = shredding.ERASED if key is None else shredding.seal(key, person_id, value)
        return sealed

    def open_rows(self, cur, rows):
        """Copies of ``rows`` with every sealed text opened, one query for all their persons' keys (a
        page of messages or events asks once, not once a row); an erased writer's read ``[erased]``."""
        rows = [dict(row) for row in rows]
        key_of = self.keys.lookup(cur, [row[name] for row in rows for name in SEALED_TEXTS if name in row])
        for row in rows:
            for name in SEALED_TEXTS:
                if name in row:
                    row[name] = shredding.open_field(row[name], key_of)
        return rows

    def open_row(self, cur, row):
        return None if row is None else self.open_rows(cur, [row])[0]
