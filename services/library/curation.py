"""Moderators curate the library: add materials, edit or withdraw any item.

Curation is the library's own data: no event carries it, and each act is journaled in
``library_moderation`` (who, what, before/after, why). A withdrawal is soft (the row stays,
marked), so nothing can bring the item back: a redelivered CaseCompleted is dropped by
``processed_events``, and even a replay would only meet the row's fixed id (``ON CONFLICT DO
NOTHING``) - neither resurrects a withdrawn item nor overwrites an edit. A withdrawn solved
case takes the materials attached to its solutions with it.

A library rebuilt from the cases log (``mentor-research rebuild library``) is the projection
alone: uncurated. ``verify library`` therefore reports a moderator's edits and added materials
as differences from the log (by design: they are not in it); withdrawals are not compared.
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
    cur.execute(
        "INSERT INTO library_materials (id, material_type, title, description, url, reference, rubrics, "
        "origin, added_by) VALUES (%s, %s, %s, %s, %s, %s, %s, 'moderator', %s)",
        (
            material_id,
            material["material_type"],
            material["title"].strip(),
            material["description"],
            material["url"],
            material["reference"],
            ordered_rubrics(material["rubrics"]),
            moderator_id,
        ),
    )
    _journal(cur, material_id, MATERIAL, "added", moderator_id)
    return items.get(cur, material_id, moderator=True)


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
