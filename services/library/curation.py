"""Moderators curate the library: add materials, edit or withdraw any item.

Curation is the library's own data: no event carries it, and each act is journaled in
``library_moderation`` (who, what, before/after, why; an added material with its content), in order:
the library's own log of curation, which ``replay`` applies again. A withdrawal is soft (the row stays,
marked), so nothing can bring the item back: a redelivered CaseCompleted is dropped by
``processed_events``, and even a replay would only meet the row's fixed id (``ON CONFLICT DO
NOTHING``) - neither resurrects a withdrawn item nor overwrites an edit. A withdrawn solved
case takes the materials attached to its solutions with it.

A library rebuilt from the logs (``mentor-research rebuild library``) is the projection of the cases
log, the library's decisions, then this journal replayed in order: a moderator's edits, added
materials and withdrawals are reproduced. Materials added before the journal kept their content
cannot be (``replay`` says so, and ``verify library`` shows them as only in the live library).
"""

import uuid

from psycopg2.extras import Json

from contracts.errors import Conflict, InvalidInput
from contracts.rubrics import ordered_rubrics
from services.library import items
from services.library.search import CASE, MATERIAL

EDITABLE = {
    CASE: ("essence", "actions_taken", "difficulty", "question", "rubrics"),
    MATERIAL: ("material_type", "title", "description", "url", "reference", "rubrics"),
}


MATERIAL_CONTENT = ("material_type", "title", "description", "url", "reference", "rubrics")


def material_problems(material):
    """What a material lacks for its type (pure): a link needs its url, a book its reference,
    an article one of them. Returns ``{field: [message]}``, empty when complete."""
    kind = material.get("material_type")
    if kind == "link" and not material.get("url"):
        return {"url": ["A link needs its url."]}
    if kind == "book" and not (material.get("reference") or "").strip():
        return {"reference": ["A book needs its bibliographic reference."]}
    if kind == "article" and not (material.get("url") or (material.get("reference") or "").strip()):
        return {"url": ["An article needs its url or a bibliographic reference."]}
    return {}


def changes_for(kind, row, edit):
    """``{field: {"before", "after"}}`` of an edit to an item of ``kind`` (pure); InvalidInput
    naming the fields this kind of item does not have."""
    wrong = sorted(set(edit) - set(EDITABLE[kind]))
    if wrong:
        raise InvalidInput(
            f"A {kind.replace('_', ' ')} has no such fields.",
            {f: [f"Not editable on a {kind.replace('_', ' ')}."] for f in wrong},
        )
    if "rubrics" in edit:
        edit = {**edit, "rubrics": ordered_rubrics(edit["rubrics"])}
    return {f: {"before": row[f], "after": v} for f, v in edit.items() if row[f] != v}


def _journal(cur, item_id, kind, action, moderator_id, reason="", changes=None):
    cur.execute(
        "INSERT INTO library_moderation (item_id, item_table, action, moderator_id, reason, changes) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (item_id, items.TABLES[kind], action, moderator_id, reason, Json(changes or {})),
    )


def add_material(cur, moderator_id, material):
    problems = material_problems(material)
    if problems:
        raise InvalidInput("The material is incomplete.", problems)
    material_id = uuid.uuid4()
    content = {
        "material_type": material["material_type"],
        "title": material["title"].strip(),
        "description": material["description"],
        "url": material["url"],
        "reference": material["reference"],
        "rubrics": ordered_rubrics(material["rubrics"]),
    }
    _insert_material(cur, material_id, content, moderator_id)
    _journal(cur, material_id, MATERIAL, "added", moderator_id, changes={f: {"after": v} for f, v in content.items()})
    return items.get(cur, material_id, moderator=True)


def _insert_material(cur, material_id, content, moderator_id):
    cur.execute(
        f"INSERT INTO library_materials (id, {', '.join(MATERIAL_CONTENT)}, origin, added_by) "
        f"VALUES (%s, {', '.join(['%s'] * len(MATERIAL_CONTENT))}, 'moderator', %s) ON CONFLICT (id) DO NOTHING",
        [material_id, *(content[f] for f in MATERIAL_CONTENT), moderator_id],
    )


def edit_item(cur, moderator_id, item_id, edit):
    kind, row = items.locate(cur, item_id, lock=True)
    if row["withdrawn_at"] is not None:
        raise Conflict(
            "The item was withdrawn; it cannot be edited.", details={"withdrawn_at": str(row["withdrawn_at"])}
        )
    changes = changes_for(kind, row, edit)
    if kind == MATERIAL:
        problems = material_problems({**row, **{f: c["after"] for f, c in changes.items()}})
        if problems:
            raise InvalidInput("The material would be incomplete.", problems)
    if changes:
        assignments = ", ".join(f"{f} = %s" for f in changes)
        cur.execute(
            f"UPDATE {items.TABLES[kind]} SET {assignments}, edited_at = now(), edited_by = %s WHERE id = %s::uuid",
            [c["after"] for c in changes.values()] + [moderator_id, row["id"]],
        )
        _journal(cur, row["id"], kind, "edited", moderator_id, changes=changes)
    return items.get(cur, row["id"], moderator=True)


def withdraw_item(cur, moderator_id, item_id, reason):
    """Idempotent: withdrawing a withdrawn item changes nothing (the first reason stays)."""
    kind, row = items.locate(cur, item_id, lock=True)
    if row["withdrawn_at"] is None:
        set_withdrawn = (
            "SET withdrawn_at = now(), withdrawn_by = %s, withdrawn_reason = %s WHERE withdrawn_at IS NULL AND "
        )
        cur.execute(f"UPDATE {items.TABLES[kind]} {set_withdrawn} id = %s::uuid", (moderator_id, reason, row["id"]))
        attached = []
        if kind == CASE:
            cur.execute(
                f"UPDATE library_materials {set_withdrawn} entry_id = %s::uuid RETURNING id::text",
                (moderator_id, reason, row["id"]),
            )
            attached = [r["id"] for r in cur.fetchall()]
        _journal(cur, row["id"], kind, "withdrawn", moderator_id, reason, {"materials": attached} if attached else None)
    return items.get(cur, row["id"], moderator=True)


def replay(cur, act):
    """One act of the journal (a ``library_moderation`` row; acts in their order) applied again to a
    library rebuilt from the logs. Returns False for an act it cannot reproduce: a material added before
    the journal kept the content of what was added."""
    table, changes, moderator_id = act["item_table"], act["changes"] or {}, act["moderator_id"]
    if table not in items.TABLES.values():
        return False
    if act["action"] == "added":
        if table != items.TABLES[MATERIAL] or set(changes) != set(MATERIAL_CONTENT):
            return False
        _insert_material(cur, act["item_id"], {f: c["after"] for f, c in changes.items()}, moderator_id)
    elif act["action"] == "edited":
        fields = [f for f in changes if f in EDITABLE[CASE] + EDITABLE[MATERIAL]]
        cur.execute(
            f"UPDATE {table} SET {', '.join(f'{f} = %s' for f in fields)}, edited_at = %s, edited_by = %s "
            f"WHERE id = %s",
            [changes[f]["after"] for f in fields] + [act["at"], moderator_id, act["item_id"]],
        )
    elif act["action"] == "withdrawn":
        withdrawn = "SET withdrawn_at = %s, withdrawn_by = %s, withdrawn_reason = %s WHERE withdrawn_at IS NULL AND"
        cur.execute(f"UPDATE {table} {withdrawn} id = %s", (act["at"], moderator_id, act["reason"], act["item_id"]))
        for material_id in changes.get("materials", []):
            cur.execute(
                f"UPDATE library_materials {withdrawn} id = %s", (act["at"], moderator_id, act["reason"], material_id)
            )
    else:
        return False
    return True
