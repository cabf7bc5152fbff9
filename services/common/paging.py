"""The cursor of a list sorted newest first by (a moment, an id): an opaque, URL-safe token of the last
row's sort key, so the next page starts after it however many rows were added meanwhile. The case list
(services/cases/index.py) and the news (services/notifications/news.py) page with it."""

import base64
import binascii
import json
import uuid
from datetime import datetime

from contracts.errors import InvalidInput


def encode_cursor(moment, row_id):
    raw = json.dumps([moment.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    """(moment, id) of a cursor ``encode_cursor`` made; anything else is a 400 naming ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        return datetime.fromisoformat(moment), str(uuid.UUID(row_id))
    except (binascii.Error, ValueError, TypeError, AttributeError, UnicodeDecodeError):
        raise InvalidInput(
            "The cursor is not one this list gave.",
            {"cursor": ["Pass back next_cursor of the previous page unchanged."]},
        ) from None
