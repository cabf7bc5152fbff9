"""A person's records in one service's own tables, for ``GET /api/v1/me/data`` (the right of access).

Each service names its tables and the columns that hold a person's id (``PersonalTables``); the
gateway gathers every service's answer into one document. Secrets are never part of the answer,
not even the person's own: hashes of passwords and tokens, and columns a service names as secret (an
e-mail's body holding a one-time link); bytes (a photo) are given as their size.
"""

import datetime
import decimal
import re
import uuid

SECRET_COLUMN = re.compile(r"hash|token|secret|password", re.IGNORECASE)


def jsonable(value):
    """A stored value as JSON can carry it (pure): UUIDs and moments as strings, bytes as their size. The
    case history and the researchers' export show events' fields with it too (services/cases/views.py)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, memoryview)):
        return {"bytes": len(value)}
    return value


def records(cur, tables, user_id, open_rows=None):
    """``{table: [row, ...]}``: every row of each table in which one of its named columns holds the
    person's id. ``tables``: ``{table: (id columns, secret columns)}``; ``open_rows(cur, rows)``: the
    rows with their sealed fields opened (services/common/shredding.py), for a service that seals."""
    found = {}
    for table, (columns, secret) in tables.items():
        where = " OR ".join(f"{column}::text = %(user)s" for column in columns)
        cur.execute(f"SELECT * FROM {table} WHERE {where}", {"user": str(user_id)})
        rows = cur.fetchall() if open_rows is None else open_rows(cur, cur.fetchall())
        found[table] = [
            {k: jsonable(v) for k, v in row.items() if k not in secret and not SECRET_COLUMN.search(k)} for row in rows
        ]
    return found
