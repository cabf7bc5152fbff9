"""matching's read model, as plain functions on a cursor: used by the live handlers and by
``mentor-research rebuild matching`` alike, so a rebuild applies exactly the same rules.

Tables (made by the schema history, services/matching/migrations):
- ``mentors``: the latest MentorProfileUpdated snapshot of each mentor (by identity's position);
- ``cases``: each case's current rubrics (by the cases log's position) and ``released_position``,
  the last point where every mentor engaged so far stopped working on it (completion,
  withdrawal, second opinion);
- ``assignments``: one row per (case, chosen mentor): when they were chosen, how they answered
  (accepted, declined, escalated = did not answer in time) and when, the response time, and
  whether the case is still open for them;
- ``mentor_stats``: per mentor, derived from assignments: open cases (the load) and the median
  response time.

Every case event locks its case's row first (events of one case apply one at a time) and each
column is written only by an event newer than the one that wrote it (source positions), so
redelivered or reordered events leave the same state.
"""

from datetime import date

from psycopg2.extras import Json

from services.matching.ranking import (
    FREE_WEIGHT,
    NEUTRAL_SPEED,
    OVERLAP_WEIGHT,
    PRIOR_RESPONSES,
    RESPONSE_REFERENCE_SECONDS,
    SPEED_WEIGHT,
    TIE_MARGIN,
    Candidate,
)

DEFAULT_CAPACITY = 3  # what a v1 profile (before capacities existed) is read as
SCORE_CUT_MARGIN = 2e-4  # > twice ranking.score's rounding (0.5e-4) plus float noise


# Outcomes that end a mentor's engagement with the case at once.
ENDING_OUTCOMES = ("declined", "escalated")
# The case events the read model follows (what each one means is in apply_case_event).
CASE_EVENT_TYPES = (
    "CaseCreated",
    "MentorChosen",
    "MentorAccepted",
    "MentorDeclined",
    "CaseEscalated",
    "SecondOpinionRequested",
    "CaseCompleted",
    "CaseWithdrawn",
    "CaseRedefined",
    "MentorReleased",
    "CaseAuthorErased",
)


# ---- mentors ------------------------------------------------------------------------------


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def mentor_snapshot(payload, schema_version):
    """A MentorProfileUpdated payload of any version as the current (v2) snapshot.

    v1 is upcast: not accredited (nobody had vouched for them yet), capacity 3, never away.
    Away periods are sorted; one that ends before it starts means nothing and is dropped.
    """
    snapshot = {
        "mentor_id": payload["mentor_id"],
        "rubrics": list(payload["rubrics"]),
        "accepting_cases": bool(payload["accepting_cases"]),
        "accredited": False,
        "capacity": DEFAULT_CAPACITY,
        "away_periods": [],
    }
    if schema_version >= 2:
        periods = sorted((_as_date(p["starts_on"]), _as_date(p["ends_on"])) for p in payload["away_periods"])
        snapshot.update(
            accredited=bool(payload["accredited"]),
            capacity=int(payload["capacity"]),
            away_periods=[{"starts_on": s.isoformat(), "ends_on": e.isoformat()} for s, e in periods if s <= e],
        )
    return snapshot


def _multirange(periods):
    """Inclusive date periods as a PostgreSQL datemultirange literal."""
    return "{" + ",".join(f"[{p['starts_on']},{p['ends_on']}]" for p in periods) + "}"


_UPSERT_MENTOR = """INSERT INTO mentors (mentor_id, rubrics, accepting_cases, accredited, capacity, away_periods,
                                         away, source_position)
           VALUES (%s, %s, %s, %s, %s, %s, %s::datemultirange, %s)
           ON CONFLICT (mentor_id) DO UPDATE SET rubrics = EXCLUDED.rubrics,
               accepting_cases = EXCLUDED.accepting_cases, accredited = EXCLUDED.accredited,
               capacity = EXCLUDED.capacity, away_periods = EXCLUDED.away_periods, away = EXCLUDED.away,
               source_position = EXCLUDED.source_position, updated_at = now()
           WHERE mentors.source_position < EXCLUDED.source_position"""


def _upsert_mentor_args(payload, position, schema_version):
    m = mentor_snapshot(payload, schema_version)
    return (
        m["mentor_id"],
        m["rubrics"],
        m["accepting_cases"],
        m["accredited"],
        m["capacity"],
        Json(m["away_periods"]),
        _multirange(m["away_periods"]),
        position,
    )


def upsert_mentor(cur, payload, position, schema_version=2):
    """Out-of-order safe: an older profile event never overwrites a newer one."""
    cur.execute(_UPSERT_MENTOR, _upsert_mentor_args(payload, position, schema_version))


def upsert_mentors(cur, envelopes):
    """``upsert_mentor`` of each MentorProfileUpdated envelope, in their order, sent to the server in
    one round trip (the same statements, one after the other in the caller's transaction)."""
    if envelopes:
        cur.execute(
            b";".join(
                cur.mogrify(_UPSERT_MENTOR, _upsert_mentor_args(e.payload, e.position, e.schema_version))
                for e in envelopes
            )
        )


MENTOR_COLUMNS = """m.mentor_id, m.rubrics, m.accepting_cases, m.accredited, m.capacity, m.away_periods,
    coalesce(s.open_cases, 0) AS load, s.median_response_seconds, coalesce(s.responses, 0) AS responses"""
# The fair order's history of each mentor the ranking sees (only those: after the cut).
EXPOSURE_COLUMNS = """(SELECT count(*) FROM assignments a WHERE a.mentor_id = c.mentor_id
                           AND a.chosen_at >= %(recent_since)s) AS recent_assignments,
                       (SELECT max(p.created_at) FROM proposals p
                        WHERE p.proposals @> jsonb_build_array(jsonb_build_object('mentor_id', c.mentor_id)))
                           AS last_proposed_at"""


def _candidate(row):
    return Candidate(
        row["mentor_id"],
        frozenset(row["rubrics"]),
        row["accepting_cases"],
        row["accredited"],
        row["capacity"],
        row["load"],
        tuple((_as_date(p["starts_on"]), _as_date(p["ends_on"])) for p in row["away_periods"]),
        row["median_response_seconds"],
        row["responses"],
        row["recent_assignments"],
        row["last_proposed_at"],
    )


def _score_sql(rubrics, params):
    """ranking.score as a SQL expression (the same float arithmetic), for the cut in candidates()."""
    for i, rubric in enumerate(rubrics):
        params[f"r{i}"] = rubric
    matched = " + ".join(f"(m.rubrics @> ARRAY[%(r{i})s]::text[])::int" for i in range(len(rubrics)))
    free = (
        "CASE WHEN m.capacity > 0 THEN greatest(m.capacity - coalesce(s.open_cases, 0), 0)::float8 / m.capacity "
        "ELSE 0 END"
    )
    n = "greatest(coalesce(s.responses, 0), 1)::float8"
    speed = (
        f"CASE WHEN s.median_response_seconds IS NULL THEN {NEUTRAL_SPEED}::float8 ELSE "
        f"({n} * ({RESPONSE_REFERENCE_SECONDS}::float8 / ({RESPONSE_REFERENCE_SECONDS}::float8 "
        f"+ greatest(s.median_response_seconds, 0))) + {PRIOR_RESPONSES}::float8 * {NEUTRAL_SPEED}::float8) "
        f"/ ({n} + {PRIOR_RESPONSES}::float8) END"
    )
    return (
        f"{OVERLAP_WEIGHT}::float8 * (({matched})::float8 / {len(rubrics)}) + {FREE_WEIGHT}::float8 * ({free}) "
        f"+ {SPEED_WEIGHT}::float8 * ({speed})"
    )


def candidates(
    cur,
    rubrics,
    exclude=(),
    today=None,
    require_free_capacity=True,
    require_accepting=True,
    k=None,
    recent_since=None,
    tie_margin=TIE_MARGIN,
):
    """Mentors who may be ranked for ``rubrics``, with their recent assignments (chosen at or
    after ``recent_since``; None counts none) and when they were last proposed. The SQL applies
    the eligibility rules of ranking.py (which checks them again) so a large roll is cut down by
    the rubrics' GIN index before anything reaches Python.

    With ``k``, it also scores in SQL (the formula of ranking.score) and returns only the mentors
    who could be among the ``k`` the fair order picks: every one scoring at least the k-th score
    less ``tie_margin`` (each pick is within it of the best left, and the best left is never
    below the k-th score) and less a margin that covers ranking.score's rounding to 4 decimals.
    ranking.rank then decides among them exactly as it would among all
    (tests/integration/test_matching_availability.py checks it).
    """
    wanted = sorted(set(rubrics))
    params = {
        "rubrics": wanted,
        "today": today,
        "exclude": sorted(set(exclude)),
        "recent_since": recent_since if recent_since is not None else "infinity",
    }
    where = ["m.rubrics && %(rubrics)s::text[]", "m.accredited"]
    if require_accepting:
        where.append("m.accepting_cases")
    if require_free_capacity:
        where.append("coalesce(s.open_cases, 0) < m.capacity")
    if today is not None:
        where.append("NOT m.away @> %(today)s::date")
    if exclude:
        where.append("m.mentor_id <> ALL(%(exclude)s::text[])")
    eligible = f"FROM mentors m LEFT JOIN mentor_stats s USING (mentor_id) WHERE {' AND '.join(where)}"
    if k is None or not wanted:
        cur.execute(f"SELECT c.*, {EXPOSURE_COLUMNS} FROM (SELECT {MENTOR_COLUMNS} {eligible}) c", params)
    else:
        params.update(k=max(int(k), 1), margin=SCORE_CUT_MARGIN + max(float(tie_margin), 0.0))
        cur.execute(
            f"""WITH scored AS (SELECT {MENTOR_COLUMNS}, {_score_sql(wanted, params)} AS raw {eligible}),
                             cut AS (SELECT raw FROM scored ORDER BY raw DESC OFFSET %(k)s - 1 LIMIT 1)
                        SELECT c.*, {EXPOSURE_COLUMNS} FROM scored c
                        WHERE raw >= coalesce((SELECT raw FROM cut), '-infinity') - %(margin)s""",
            params,
        )
    return [_candidate(r) for r in cur.fetchall()]


def mentor_view(cur, mentor_id):
    cur.execute(
        f"SELECT {MENTOR_COLUMNS} FROM mentors m LEFT JOIN mentor_stats s USING (mentor_id) WHERE m.mentor_id = %s",
        (mentor_id,),
    )
    row = cur.fetchone()
    if row is None:
        return None
    return {**row, "rubrics": list(row["rubrics"])}


# ---- cases and assignments ------------------------------------------------------------------


def lock_case(cur, case_id):
    """The case's row, created if new, locked until the transaction ends."""
    cur.execute(
        "INSERT INTO cases (case_id) VALUES (%s) ON CONFLICT (case_id) DO UPDATE "
        "SET case_id = EXCLUDED.case_id RETURNING case_id",
        (case_id,),
    )
    cur.fetchone()


def note_rubrics(cur, case_id, rubrics, position):
    cur.execute(
        "UPDATE cases SET rubrics = %s, rubrics_position = %s WHERE case_id = %s AND rubrics_position < %s",
        (list(rubrics), position, case_id, position),
    )


def mentor_chosen(cur, case_id, mentor_id, round_, at, position):
    cur.execute(
        """INSERT INTO assignments (case_id, mentor_id, round, chosen_at, chosen_position) VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (case_id, mentor_id) DO UPDATE SET round = EXCLUDED.round, chosen_at = EXCLUDED.chosen_at,
               chosen_position = EXCLUDED.chosen_position
           WHERE assignments.chosen_position IS NULL OR assignments.chosen_position < EXCLUDED.chosen_position""",
        (case_id, mentor_id, round_, at, position),
    )


def mentor_answered(cur, case_id, mentor_id, outcome, at, position):
    """accepted / declined / escalated (no answer in time: its wait counts as a response time
    too, so a mentor who lets cases lapse does not look like one without history)."""
    cur.execute(
        """INSERT INTO assignments (case_id, mentor_id, outcome, outcome_at, outcome_position)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (case_id, mentor_id) DO UPDATE SET outcome = EXCLUDED.outcome,
               outcome_at = EXCLUDED.outcome_at, outcome_position = EXCLUDED.outcome_position
           WHERE assignments.outcome_position IS NULL OR assignments.outcome_position < EXCLUDED.outcome_position""",
        (case_id, mentor_id, outcome, at, position),
    )


def case_released(cur, case_id, position):
    """Every mentor chosen before ``position`` no longer works on the case."""
    cur.execute(
        "UPDATE cases SET released_position = greatest(released_position, %s) WHERE case_id = %s", (position, case_id)
    )


def refresh_case(cur, case_id):
    """Derive each assignment's response time and openness, then its mentors' stats (in id order:
    two cases sharing mentors lock their stats rows in the same order, so never deadlock)."""
    cur.execute(
        """UPDATE assignments a SET
               response_seconds = CASE WHEN a.chosen_at IS NOT NULL AND a.outcome_at IS NOT NULL
                                       THEN greatest(extract(epoch FROM a.outcome_at - a.chosen_at), 0) END,
               open = (a.chosen_position IS NOT NULL AND a.chosen_position > c.released_position
                       AND (a.outcome IS NULL OR a.outcome <> ALL(%s)))
           FROM cases c WHERE c.case_id = a.case_id AND a.case_id = %s
           RETURNING a.mentor_id""",
        (list(ENDING_OUTCOMES), case_id),
    )
    for mentor_id in sorted({r["mentor_id"] for r in cur.fetchall()}):
        refresh_mentor(cur, mentor_id)


def refresh_mentor(cur, mentor_id):
    # Lock the row first; the next statement's snapshot then sees every assignment committed by a
    # transaction that held the lock before (READ COMMITTED takes a snapshot per statement).
    cur.execute(
        "INSERT INTO mentor_stats (mentor_id) VALUES (%s) ON CONFLICT (mentor_id) DO UPDATE "
        "SET mentor_id = EXCLUDED.mentor_id",
        (mentor_id,),
    )
    cur.execute(
        """UPDATE mentor_stats s SET open_cases = a.open_cases, responses = a.responses,
               median_response_seconds = a.median
           FROM (SELECT count(*) FILTER (WHERE open) AS open_cases, count(response_seconds) AS responses,
                        percentile_cont(0.5) WITHIN GROUP (ORDER BY response_seconds) AS median
                 FROM assignments WHERE mentor_id = %s) a
           WHERE s.mentor_id = %s""",
        (mentor_id, mentor_id),
    )


def asked_mentors(cur, case_id):
    """Every mentor seen chosen for the case (never to be proposed for it again: rounds.py)."""
    cur.execute("SELECT mentor_id FROM assignments WHERE case_id = %s AND chosen_position IS NOT NULL", (case_id,))
    return {r["mentor_id"] for r in cur.fetchall()}


def case_mentors(cur, case_id):
    """Mentors the case is open for now (its current mentor)."""
    cur.execute("SELECT mentor_id FROM assignments WHERE case_id = %s AND open", (case_id,))
    return {r["mentor_id"] for r in cur.fetchall()}


def apply_case_event(cur, envelope):
    """Fold one case event into the read model (the caller deduplicates: first_delivery)."""
    p, position, at = envelope.payload, envelope.position, envelope.occurred_at
    case_id = p["case_id"]
    if envelope.type not in CASE_EVENT_TYPES:
        raise ValueError(f"matching read model: no rule for {envelope.type}")
    lock_case(cur, case_id)
    if "rubrics" in p:  # CaseCreated, CaseRedefined and the next-round events carry the current ones
        note_rubrics(cur, case_id, p["rubrics"], position)
    if envelope.type == "MentorChosen":
        mentor_chosen(cur, case_id, p["mentor_id"], p["round"], at, position)
    elif envelope.type == "MentorAccepted":
        mentor_answered(cur, case_id, p["mentor_id"], "accepted", at, position)
    elif envelope.type == "MentorDeclined":
        mentor_answered(cur, case_id, p["mentor_id"], "declined", at, position)
    elif envelope.type == "CaseEscalated":
        mentor_answered(cur, case_id, p["mentor_id"], "escalated", at, position)
    elif envelope.type in (
        "SecondOpinionRequested",
        "CaseCompleted",
        "CaseWithdrawn",
        "MentorReleased",
        "CaseAuthorErased",
    ):
        case_released(cur, case_id, position)
    else:  # CaseCreated, CaseRedefined: rubrics only
        return
    refresh_case(cur, case_id)


# ---- rounds -------------------------------------------------------------------------------


def record_round(cur, case_id, round_, rubrics, proposals, at=None):
    """A round is decided once: returns the proposals recorded for it (these, or earlier ones).

    ``at``: when it was decided (now by default; a rebuild gives the MentorsMatched event's time,
    so "least recently proposed" means the same in a rebuilt read model)."""
    cur.execute(
        "INSERT INTO proposals (case_id, round, rubrics, proposals, created_at) "
        "VALUES (%s, %s, %s, %s, coalesce(%s, now())) ON CONFLICT DO NOTHING RETURNING round",
        (case_id, round_, list(rubrics), Json(proposals), at),
    )
    if cur.fetchone() is None:
        cur.execute("SELECT proposals FROM proposals WHERE case_id = %s AND round = %s", (case_id, round_))
        return cur.fetchone()["proposals"]
    return proposals
