"""notifications: an in-app inbox entry for everyone whose turn it is."""
from contracts.errors import NotFound
from contracts.rpc import ActorSchema
from contracts.validation import load
from services.common.consumer import first_delivery, subscribe
from services.common.db import Database
from services.common.health import health_report
from services.common.logs import CorrelationContext, get_logger
from services.common.rpc import rpc
from services.common.schema import CONSUMER_TABLES
from services.notifications.messages import inbox_entries

log = get_logger()

SCHEMA = CONSUMER_TABLES + (
    """CREATE TABLE IF NOT EXISTS inbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id text NOT NULL,
        kind text NOT NULL,
        case_id text,
        case_number text,
        text text NOT NULL,
        source_event_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        UNIQUE (source_event_id, user_id)
    )""",
    "CREATE INDEX IF NOT EXISTS inbox_user ON inbox (user_id, created_at DESC)",
)

COLUMNS = "id::text, kind, case_id, case_number, text, created_at, read_at"


def _view(row):
    return {**row, "created_at": row["created_at"].isoformat(),
            "read_at": row["read_at"].isoformat() if row["read_at"] else None}


class NotificationsService:
    name = "notifications"

    log = CorrelationContext("notifications")
    db = Database(migrations=SCHEMA)

    @subscribe("notifications.case-events")
    def on_case_event(self, envelope):
        p = envelope.payload
        with self.db.transaction() as cur:
            if not first_delivery(cur, envelope, self.name):
                return
            for user_id, kind, text in inbox_entries(envelope.type, p):
                cur.execute("INSERT INTO inbox (user_id, kind, case_id, case_number, text, source_event_id) "
                            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                            (user_id, kind, p["case_id"], p["case_number"], text, envelope.event_id))
                log.info("inbox_entry_created", kind=kind, case_id=p["case_id"])

    @rpc
    def list_inbox(self, actor):
        actor = load(ActorSchema(), actor, "actor")
        with self.db.transaction() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM inbox WHERE user_id = %s ORDER BY created_at DESC LIMIT 200",
                        (actor["user_id"],))
            return [_view(r) for r in cur.fetchall()]

    @rpc
    def mark_read(self, actor, entry_id):
        actor = load(ActorSchema(), actor, "actor")
        with self.db.transaction() as cur:
            cur.execute(f"UPDATE inbox SET read_at = coalesce(read_at, now()) "
                        f"WHERE id::text = %s AND user_id = %s RETURNING {COLUMNS}",
                        (str(entry_id), actor["user_id"]))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"No inbox entry {entry_id}.")
        return _view(row)

    @rpc
    def health(self):
        return health_report(self.name, self.db)
