"""Which mentors are suspended from the roll of mentors, as cases learns it from identity.

Identity owns the roll and announces every decision (AccreditationDecided); cases keeps the latest
per mentor (by identity's outbox position, so a redelivered or late older decision never overrides
a newer one) in ``mentor_standing``, and refuses every action on cases by a suspended mentor, and
the choice of one (MentorSuspended, 403 ``mentor_suspended``). A mentor cases never heard of is in
good standing. The table is in the cases database, beside the index.
"""

from services.cases.domain import AWAITING_ACCEPTANCE, CHOOSING_MENTOR, WORKING

# decision -> suspended afterwards; a rejection changes no standing (a rejected mentor was never on the roll)
SUSPENDS = {"suspended": True, "reinstated": False, "approved": False}
RELEASE_REASON = "mentor_suspended"  # contracts.vocabulary.RELEASE_REASONS
ERASED_REASON = "mentor_erased"  # the mentor left the platform (PersonErased): released the same way


def record_decision(cur, mentor_id, decision, position):
    """Apply one AccreditationDecided (the newest by position wins); returns whether the mentor is
    suspended now, after it."""
    if decision in SUSPENDS:
        cur.execute(
            """INSERT INTO mentor_standing (mentor_id, suspended, source_position) VALUES (%s, %s, %s)
               ON CONFLICT (mentor_id) DO UPDATE SET suspended = EXCLUDED.suspended,
                   source_position = EXCLUDED.source_position, updated_at = now()
               WHERE mentor_standing.source_position < EXCLUDED.source_position""",
            (mentor_id, SUSPENDS[decision], position),
        )
    return is_suspended(cur, mentor_id)


def is_suspended(cur, mentor_id):
    cur.execute("SELECT suspended FROM mentor_standing WHERE mentor_id = %s", (mentor_id,))
    row = cur.fetchone()
    return bool(row and row["suspended"])


def cases_to_release(cur, mentor_id):
    """Cases that may involve the mentor now: those they are chosen for or work on, and every case
    whose author is choosing among proposals (whether the mentor is among them, only the case knows:
    Case.release_mentor decides, and changes nothing where they are not)."""
    cur.execute(
        "SELECT case_id FROM case_index WHERE mentor_id = %s AND state = ANY(%s) "
        "UNION SELECT case_id FROM case_index WHERE state = %s",
        (mentor_id, [AWAITING_ACCEPTANCE, *WORKING], CHOOSING_MENTOR),
    )
    return [str(row["case_id"]) for row in cur.fetchall()]
