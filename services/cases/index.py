"""A read model of cases for listing: who authored, who mentors, state, why a moderator is needed
(flag_reason), and when the current mentor was chosen; when the step the case waits on began and how many
reminders of it were sent (the follow-up sweep looks there: ``due_follow_ups``); for the moderators'
statistics, when the first answer of a mentor came and when that mentor had been chosen.

Each row is also the case's summary in a list (no client needs one GET per case): an excerpt of the
essence (sealed with the author's key, like the essence in the log: services/cases/sealing.py; opened
for a page with one key query, ``[erased]`` once the author is erased), the mode, whose turn it is and since when; and the counts the statistics need (declines,
questions by kind, whether colleagues were asked, whether it went to the forum, a second opinion).
A list is read in pages, newest change first, with an opaque cursor (``list_for``).

Updated right after each command (read-your-writes) and caught up from the
notification log by a timer, so a crash between the two never leaves it stale.
"""

import json

from contracts.vocabulary import TURN_BY_STATE
from services.cases.application import CasesApplication
from services.cases.domain import AWAITING_ACCEPTANCE, AWAITING_PROPOSALS, CLOSED, FLAG_MENTOR_OVERDUE
from services.cases.sealing import EXCERPT_TEXTS, is_person
from services.common import paging
from services.common.paging import decode_cursor  # the case list pages with the common cursor
from services.common.shredding import ERASED

EXCERPT_CHARS = 160  # of the essence, in a list


# Domain events that time the first answer of a mentor (seed 6.2 step 2: the chosen mentor accepts or declines).
CHOSEN = "MentorChosen"
ANSWERS = ("MentorAccepted", "MentorDeclined")


def next_case_number(cur, year):
    cur.execute("SELECT nextval('case_number_seq') AS n")
    return f"MC-{year}-{cur.fetchone()['n']:06d}"


def participants(case):
    """Mentors who see the case in their list: the current one, those who worked on it, colleagues."""
    worked = [e["mentor_id"] for e in case.engagements if e["outcome"] == "accepted"]
    return sorted(set(worked + list(case.colleague_ids) + ([case.mentor_id] if case.mentor_id else [])))


def unfinished_cases_of(cur, author_id):
    """Ids of the cases ``author_id`` filed that are neither completed nor withdrawn (abandoned ones
    included): what closes when the author is erased."""
    cur.execute("SELECT case_id FROM case_index WHERE author_id = %s AND state <> ALL(%s)", (author_id, list(CLOSED)))
    return [str(row["case_id"]) for row in cur.fetchall()]


def excerpt(text):
    """The start of a text for a list: at most EXCERPT_CHARS, cut at a word where one is near, with an ellipsis."""
    text = " ".join((text or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[: EXCERPT_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > EXCERPT_CHARS // 2 else cut).rstrip(" ,.;:") + "\u2026"


def summary_figures(case):
    """What the list and the statistics read of a case beyond its state (pure)."""
    kinds = [q["kind"] for q in case.questions]
    return {
        "excerpt": excerpt(case.form.get("essence")),
        "mode": case.form.get("mode"),
        "turn": TURN_BY_STATE.get(case.state),
        "collective": bool(case.colleague_ids),
        "public": bool(case.forum_publications),
        "second_opinion": case.opinion > 1,
        "declines": sum(1 for e in case.engagements if e["outcome"] == "declined"),
        "clarifying_questions": kinds.count("clarifying"),
        "developing_questions": kinds.count("developing"),
    }


def upsert(cur, case, vault):
    """The case's row as the aggregate has it now; an older version never overwrites a newer one.
    ``turn_since`` moves only when the turn passes to someone else. ``vault``: the application's
    (``CasesApplication.vault``), which seals the excerpt with the author's key."""
    chosen_at = (case.chosen_at or case.modified_on) if case.mentor_id and case.state == AWAITING_ACCEPTANCE else None
    f = summary_figures(case)
    if is_person(case.author_id):
        f = vault.seal(cur, case.author_id, f, texts=EXCERPT_TEXTS)
    cur.execute(
        """INSERT INTO case_index (case_id, number, author_id, mentor_id, participant_ids, state, rubrics, urgency,
                                   version, created_at, updated_at, flag_reason, chosen_at, waiting_since,
                                   reminders_sent, excerpt, mode, turn, turn_since, collective, public,
                                   second_opinion, declines, clarifying_questions, developing_questions)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                   %s, %s)
           ON CONFLICT (case_id) DO UPDATE SET mentor_id = EXCLUDED.mentor_id,
               participant_ids = EXCLUDED.participant_ids, state = EXCLUDED.state,
               rubrics = EXCLUDED.rubrics, urgency = EXCLUDED.urgency, version = EXCLUDED.version,
               updated_at = EXCLUDED.updated_at, flag_reason = EXCLUDED.flag_reason, chosen_at = EXCLUDED.chosen_at,
               waiting_since = EXCLUDED.waiting_since, reminders_sent = EXCLUDED.reminders_sent,
               excerpt = EXCLUDED.excerpt, mode = EXCLUDED.mode, turn = EXCLUDED.turn,
               turn_since = CASE WHEN case_index.turn_since IS NOT NULL
                                      AND case_index.turn IS NOT DISTINCT FROM EXCLUDED.turn
                                 THEN case_index.turn_since ELSE EXCLUDED.turn_since END,
               collective = EXCLUDED.collective, public = EXCLUDED.public,
               second_opinion = EXCLUDED.second_opinion, declines = EXCLUDED.declines,
               clarifying_questions = EXCLUDED.clarifying_questions,
               developing_questions = EXCLUDED.developing_questions
           WHERE case_index.version < EXCLUDED.version OR case_index.turn_since IS NULL""",
        (
            case.id,
            case.number,
            case.author_id,
            case.mentor_id,
            participants(case),
            case.state,
            case.form["rubrics"],
            case.form["urgency"],
            case.version,
            case.created_on,
            case.modified_on,
            case.flag["reason"] if case.flag else None,
            chosen_at,
            case.wait_began() if case.waiting_step() else None,
            case.reminded,
            f["excerpt"],
            f["mode"],
            f["turn"],
            case.modified_on,
            f["collective"],
            f["public"],
            f["second_opinion"],
            f["declines"],
            f["clarifying_questions"],
            f["developing_questions"],
        ),
    )


def due_follow_ups(cur, now, schedule_rows, limit=100):
    """Cases waiting on someone whose next follow-up (a reminder or expiry) is due at ``now``:
    ``schedule_rows`` (waiting.Schedule.rows) give, per urgency and state, the offsets of the
    follow-ups from the wait's beginning; the next is the one after the reminders sent. Candidates
    only: Case.follow_up decides (the index may lag). A case whose mentor's work is already flagged
    overdue waits for the moderators, not for another follow-up."""
    cur.execute(
        "SELECT c.case_id FROM case_index c "
        "JOIN jsonb_to_recordset(%s::jsonb) AS s(urgency text, state text, offsets float8[]) "
        "ON s.urgency = c.urgency AND s.state = c.state "
        "WHERE c.flag_reason IS DISTINCT FROM %s AND coalesce(c.waiting_since, c.updated_at) <= "
        "%s - make_interval(secs => s.offsets[least(c.reminders_sent + 1, cardinality(s.offsets))]) "
        "ORDER BY coalesce(c.waiting_since, c.updated_at) LIMIT %s",
        (json.dumps(schedule_rows), FLAG_MENTOR_OVERDUE, now, limit),
    )
    return [row["case_id"] for row in cur.fetchall()]


def overdue_proposals(cur, now, after_seconds, limit=100):
    """Unflagged cases awaiting proposals, unchanged for at least ``after_seconds`` at ``now``:
    candidates for the proposals watchdog (the aggregate decides; the index may lag)."""
    cur.execute(
        "SELECT case_id FROM case_index WHERE state = %s AND flag_reason IS NULL "
        "AND updated_at <= %s - make_interval(secs => %s) ORDER BY updated_at LIMIT %s",
        (AWAITING_PROPOSALS, now, float(after_seconds), limit),
    )
    return [row["case_id"] for row in cur.fetchall()]


def encode_cursor(row):
    """The opaque place after ``row`` in a list (newest change first): its change time and id."""
    return paging.encode_cursor(row["updated_at"], row["id"])


def cases_written_by(cur, person_id):
    """Ids of the cases ``person_id`` authored or took part in (as a mentor or colleague): where their
    texts may be."""
    cur.execute(
        "SELECT case_id FROM case_index WHERE author_id = %s OR participant_ids @> ARRAY[%s]", (person_id, person_id)
    )
    return [str(row["case_id"]) for row in cur.fetchall()]


def forget_excerpts_of(cur, author_id):
    """An erased author's excerpts read ``[erased]`` whatever they held (rows written before sealing
    held plaintext; the sealed ones no longer open anyway)."""
    cur.execute("UPDATE case_index SET excerpt = %s WHERE author_id = %s AND excerpt <> ''", (ERASED, author_id))


def list_for(cur, actor, vault, filters=None, limit=50):
    """A page of a mentee's own cases, the cases a mentor works or worked on or was asked about as a
    colleague, or (moderators) all, filtered by state, rubric, urgency, mentor, waiting time (unchanged
    for at least ``waiting_hours``) and whether a moderator is needed (``flagged``); newest change
    first. ``{"items", "next_cursor"}``: ``filters["cursor"]`` (a page's next_cursor) gives the page
    after it; next_cursor is None on the last page."""
    filters = filters or {}
    limit = filters.get("limit") or limit
    where, args = [], []
    if actor["role"] == "mentor":
        where.append("participant_ids @> ARRAY[%s]")
        args.append(actor["user_id"])
    elif actor["role"] != "moderator":
        where.append("author_id = %s")
        args.append(actor["user_id"])
    for column, key in (("state", "state"), ("urgency", "urgency"), ("mentor_id", "mentor_id")):
        if filters.get(key):
            where.append(f"{column} = %s")
            args.append(filters[key])
    if filters.get("rubric"):
        where.append("rubrics @> %s")
        args.append([filters["rubric"]])
    if filters.get("flagged") is not None:
        where.append("flag_reason IS NOT NULL" if filters["flagged"] else "flag_reason IS NULL")
    if filters.get("waiting_hours") is not None:
        where.append("updated_at <= now() - make_interval(secs => %s)")
        args.append(float(filters["waiting_hours"]) * 3600)
    if filters.get("cursor"):
        where.append("(updated_at, case_id) < (%s, %s::uuid)")
        args.extend(decode_cursor(filters["cursor"]))
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    cur.execute(
        f"SELECT case_id::text AS id, number, state, rubrics, urgency, mentor_id, flag_reason, created_at, "
        f"updated_at, excerpt, mode, turn, coalesce(turn_since, updated_at) AS turn_since "
        f"FROM case_index {condition} ORDER BY updated_at DESC, case_id DESC LIMIT %s",
        (*args, limit + 1),
    )
    rows = cur.fetchall()
    page, more = rows[:limit], len(rows) > limit
    page = vault.open_rows(cur, page)
    return {
        "items": [
            {**row, **{k: row[k].isoformat() for k in ("created_at", "updated_at", "turn_since")}} for row in page
        ],
        "next_cursor": encode_cursor(page[-1]) if more else None,
    }


def record_response_time(cur, domain_event):
    """Fold one event, in log order, into the first-answer times: a choice before any answer marks
    when the (eventually answering) mentor was chosen; the first answer after a choice is kept.
    Replaying the same events gives the same times (a rebuild from the log is exact)."""
    kind = type(domain_event).__name__
    if kind == CHOSEN:
        cur.execute(
            "UPDATE case_index SET response_chosen_at = %s WHERE case_id = %s AND first_response_at IS NULL",
            (domain_event.timestamp, domain_event.originator_id),
        )
    elif kind in ANSWERS:
        cur.execute(
            "UPDATE case_index SET first_response_at = %s WHERE case_id = %s AND first_response_at IS NULL "
            "AND response_chosen_at IS NOT NULL",
            (domain_event.timestamp, domain_event.originator_id),
        )


def _fold_into_index(cur, app, notifications):
    for case_id in {n.originator_id for n in notifications}:
        upsert(cur, app.get_case(case_id), app.vault)
    timed = [n for n in notifications if n.topic.rsplit(".", 1)[-1] in (CHOSEN, *ANSWERS)]
    for domain_event in app.mapper.to_domain_events(timed):
        record_response_time(cur, domain_event)


def catch_up(store, app: CasesApplication, batch=500, wait=False):
    """Fold the log past the index's position into the index (``fold_log``)."""
    return fold_log(store, app, "case-index", _fold_into_index, batch, wait)


def fold_log(store, app: CasesApplication, relay, apply, batch=500, wait=False):
    """Fold the log past ``relay``'s position (its relay_position row) with ``apply(cur, app,
    notifications)``, in one transaction per batch; returns how many were folded. Another process
    folding meanwhile is skipped, or with ``wait`` waited for (then continued)."""
    with store.transaction() as cur:
        cur.execute(
            "SELECT position FROM relay_position WHERE relay = %s FOR UPDATE" + ("" if wait else " SKIP LOCKED"),
            (relay,),
        )
        row = cur.fetchone()
        if row is None:
            return 0
        notifications = app.recorder.select_notifications(start=row["position"] + 1, limit=batch)
        apply(cur, app, notifications)
        if notifications:
            cur.execute(
                "UPDATE relay_position SET position = %s, updated_at = now() WHERE relay = %s",
                (notifications[-1].id, relay),
            )
        return len(notifications)
