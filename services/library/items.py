"""Reading library items (solved cases and materials) by id, as views.

A withdrawn item is gone for everyone but moderators, who still open it by id (with the
reason) to see what was withdrawn and why.
"""

from contracts.errors import NotFound
from services.library.search import CASE, MATERIAL

_CURATION = "edited_at, withdrawn_at, withdrawn_reason"
ENTRY_COLUMNS = (
    "id::text, kind, rubrics, urgency, essence, actions_taken, difficulty, question, participants, "
    f"solutions, clarifications, problem_solved, published_at, {_CURATION}"
)
MATERIAL_COLUMNS = (
    "id::text, 'material' AS kind, material_type, title, description, url, reference, rubrics, "
    f"entry_id::text, origin, published_at, {_CURATION}"
)
COLUMNS = {CASE: ENTRY_COLUMNS, MATERIAL: MATERIAL_COLUMNS}
TABLES = {CASE: "library_entries", MATERIAL: "library_materials"}


def view(row, moderator=False):
    """JSON-safe; the curation columns only for moderators (and only when set)."""
    out = {k: v for k, v in row.items() if k not in ("edited_at", "withdrawn_at", "withdrawn_reason")}
    out["published_at"] = row["published_at"].isoformat()
    if row.get("edited_at") is not None:
        out["edited_at"] = row["edited_at"].isoformat()
    if moderator and row.get("withdrawn_at") is not None:
        out["withdrawn_at"] = row["withdrawn_at"].isoformat()
        out["withdrawn_reason"] = row["withdrawn_reason"]
    return out


def load(cur, refs, moderator=False):
    """Views of ``refs`` (dicts with ``id`` and ``kind``), in the order given (two queries at most)."""
    by_id = {}
    for kind in (CASE, MATERIAL):
        ids = [r["id"] for r in refs if r["kind"] == kind]
        if ids:
            cur.execute(f"SELECT {COLUMNS[kind]} FROM {TABLES[kind]} WHERE id = ANY(%s::uuid[])", (ids,))
            by_id.update({row["id"]: row for row in cur.fetchall()})
    return [view(by_id[str(r["id"])], moderator) for r in refs if str(r["id"]) in by_id]


def locate(cur, item_id, lock=False):
    """``(kind, row)`` of an item, withdrawn or not; NotFound if no table holds it."""
    suffix = " FOR UPDATE" if lock else ""
    for kind in (CASE, MATERIAL):
        cur.execute(f"SELECT {COLUMNS[kind]} FROM {TABLES[kind]} WHERE id::text = %s{suffix}", (str(item_id),))
        row = cur.fetchone()
        if row is not None:
            return kind, row
    raise NotFound(f"No library item {item_id}.")


def get(cur, item_id, moderator=False):
    kind, row = locate(cur, item_id)
    if row["withdrawn_at"] is not None and not moderator:
        raise NotFound(f"No library item {item_id}.")
    return view(row, moderator)
