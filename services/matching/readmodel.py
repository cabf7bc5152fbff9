"""matching's read model, as plain functions on a cursor: used by the live handlers and by
``mentor-research rebuild matching`` alike, so a rebuild applies exactly the same rules."""
from psycopg2.extras import Json

from services.matching.ranking import Candidate


def upsert_mentor(cur, payload, position):
    """Out-of-order safe: an older profile event never overwrites a newer one."""
    cur.execute(
        """INSERT INTO mentors (mentor_id, rubrics, accepting_cases, source_position)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (mentor_id) DO UPDATE SET rubrics = EXCLUDED.rubrics,
               accepting_cases = EXCLUDED.accepting_cases, source_position = EXCLUDED.source_position,
               updated_at = now()
           WHERE mentors.source_position < EXCLUDED.source_position""",
        (payload["mentor_id"], payload["rubrics"], payload["accepting_cases"], position))


def candidates(cur, rubrics):
    cur.execute("SELECT mentor_id, rubrics, accepting_cases FROM mentors WHERE rubrics && %s", (rubrics,))
    return [Candidate(r["mentor_id"], frozenset(r["rubrics"]), r["accepting_cases"]) for r in cur.fetchall()]


def record_round(cur, case_id, round_, rubrics, proposals):
    """A round is decided once: returns the proposals recorded for it (these, or earlier ones)."""
    cur.execute("INSERT INTO proposals (case_id, round, rubrics, proposals) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING round", (case_id, round_, rubrics, Json(proposals)))
    if cur.fetchone() is None:
        cur.execute("SELECT proposals FROM proposals WHERE case_id = %s AND round = %s", (case_id, round_))
        return cur.fetchone()["proposals"]
    return proposals
