"""E-mail preferences: one on/off per kind of notification, on unless the user turned it off.

Only the choices that differ from the default need a row, but every choice the user made is
kept (a later change of the default would not silently flip what they chose).
"""

from contracts.notification_kinds import KINDS

DEFAULT_EMAIL = True


def preferences_view(stored):
    """Every kind with its label and whether it is e-mailed; ``stored`` is {kind: bool}."""
    return {
        "items": [
            {"kind": kind, "label": label, "email": stored.get(kind, DEFAULT_EMAIL)} for kind, label in KINDS.items()
        ]
    }


def stored_preferences(cur, user_id):
    cur.execute("SELECT kind, email FROM notification_preferences WHERE user_id = %s", (user_id,))
    return {row["kind"]: row["email"] for row in cur.fetchall()}


def save_preferences(cur, user_id, email_by_kind):
    for kind, email in email_by_kind.items():
        cur.execute(
            "INSERT INTO notification_preferences (user_id, kind, email) VALUES (%s, %s, %s) "
            "ON CONFLICT (user_id, kind) DO UPDATE SET email = EXCLUDED.email, updated_at = now()",
            (user_id, kind, email),
        )


def wants_email(cur, user_id, kind):
    cur.execute("SELECT email FROM notification_preferences WHERE user_id = %s AND kind = %s", (user_id, kind))
    row = cur.fetchone()
    return DEFAULT_EMAIL if row is None else row["email"]


def recipients_wanting_email(cur, user_ids, kind):
    """Those of ``user_ids`` who get ``kind`` by e-mail, in their order."""
    if not user_ids:
        return []
    cur.execute(
        "SELECT user_id FROM notification_preferences WHERE user_id = ANY(%s) AND kind = %s AND email <> %s",
        (list(user_ids), kind, DEFAULT_EMAIL),
    )
    opted_out = {row["user_id"] for row in cur.fetchall()}
    return [u for u in user_ids if u not in opted_out]
