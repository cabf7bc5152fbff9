"""Mentor quality (issue #20 part 4; the seed notes the lack of "qualimetric technologies"): per
mentor, how fast they answer and work, how often they accept, and what their mentees made of it.

One pure fold of the cases' domain events (``MentorFold``), used by the cases service (its
``mentor_engagements`` projection, folded from each changed case's history) and by the researchers'
report (research/analytics.py, over the whole log), so both show the same figures. Each time a
mentor is chosen for a case is one *engagement*:

- time to accept: the choice -> the mentor's acceptance;
- time to first question, to first solution: the acceptance -> the mentor's first question, first
  possible solution on the case;
- acceptance / decline rate: accepted / declined engagements among those answered (accepted,
  declined, or let lapse: an urgent case escalated past them); a release (suspension) before an
  answer counts in neither;
- second-opinion share: of the engagements with a solution of the first opinion, those whose author
  then asked for a second opinion;
- reflection outcomes: ``problem_solved`` of the completed cases they proposed a solution on, and
  the helpfulness ratings (1-5) the author gave their solutions; overall and by the rubrics of the
  case's first form (as research/analytics.py groups cases), in the rubricator's order.

Nothing here identifies a mentee: an engagement keeps the mentor, the case's rubrics and numbers.
Medians and p90 interpolate linearly between the nearest ranks, as PostgreSQL's percentile_cont
(the moderators' statistics) does.
"""

from contracts.errors import Forbidden
from contracts.rubrics import RUBRICS
from contracts.vocabulary import PROBLEM_SOLVED
from services.cases import index

# ---- the pure fold ----------------------------------------------------------------------------

# The kinds of event whose fields the fold reads; any other kind may come as (kind, case) only.
FIELD_KINDS = frozenset(
    (
        "Created",
        "MentorChosen",
        "MentorAccepted",
        "MentorDeclined",
        "Escalated",
        "MentorReleased",
        "QuestionsAsked",
        "SolutionProposed",
        "SecondOpinionRequested",
        "Completed",
    )
)
TIMES = ("accept", "first_question", "first_solution")


class _Engagement:
    __slots__ = (
        "mentor_id",
        "opinion",
        "chosen_at",
        "accepted_at",
        "outcome",
        "first_question_at",
        "first_solution_at",
        "solution_ids",
        "second_opinion",
        "problem_solved",
        "ratings",
    )

    def __init__(self, mentor_id, opinion, chosen_at):
        self.mentor_id = mentor_id
        self.opinion = opinion
        self.chosen_at = chosen_at
        self.accepted_at = None
        self.outcome = None  # accepted, declined, lapsed, released; None while the mentor is to answer
        self.first_question_at = None
        self.first_solution_at = None
        self.solution_ids = []
        self.second_opinion = False
        self.problem_solved = None
        self.ratings = []


class _Case:
    __slots__ = ("rubrics", "opinion", "engagements")

    def __init__(self, rubrics):
        self.rubrics = rubrics
        self.opinion = 1
        self.engagements = []

    def current(self, mentor_id=None):
        """The latest engagement (of ``mentor_id``, if given)."""
        for engagement in reversed(self.engagements):
            if mentor_id is None or engagement.mentor_id == mentor_id:
                return engagement
        return None


def _seconds(start, end):
    return None if start is None or end is None else (end - start).total_seconds()


class MentorFold:
    """Feed a case's events in log order (``add``, or ``add_kind`` with the kind given); then ``records()``."""

    def __init__(self):
        self.cases = {}

    def add(self, event):
        self.add_kind(type(event).__name__, event.originator_id, event)

    def add_kind(self, kind, case_id, event):
        if kind not in FIELD_KINDS:
            return
        if kind == "Created":
            self.cases[case_id] = _Case(tuple((event.form or {}).get("rubrics") or ()))
            return
        case = self.cases.get(case_id)
        if case is None:
            return
        if kind == "MentorChosen":
            case.engagements.append(_Engagement(getattr(event, "mentor_id", None), case.opinion, event.timestamp))
            return
        if kind == "SecondOpinionRequested":
            case.opinion = 2
            for engagement in case.engagements:
                if engagement.opinion == 1 and engagement.solution_ids:
                    engagement.second_opinion = True
            return
        if kind == "Completed":
            reflection = getattr(event, "reflection", None) or {}
            helpfulness = reflection.get("helpfulness") or {}
            for engagement in case.engagements:
                if engagement.solution_ids:
                    engagement.problem_solved = reflection.get("problem_solved")
                    engagement.ratings = [helpfulness[s] for s in engagement.solution_ids if s in helpfulness]
            return
        engagement = case.current(getattr(event, "mentor_id", None))
        if engagement is None:
            return
        if kind == "MentorAccepted" and engagement.outcome is None:
            engagement.accepted_at, engagement.outcome = event.timestamp, "accepted"
        elif kind == "MentorDeclined" and engagement.outcome is None:
            engagement.outcome = "declined"
        elif kind == "Escalated" and engagement.outcome is None:
            engagement.outcome = "lapsed"
        elif kind == "MentorReleased" and engagement.outcome is None:
            engagement.outcome = "released"
        elif kind == "QuestionsAsked" and engagement.first_question_at is None:
            engagement.first_question_at = event.timestamp
        elif kind == "SolutionProposed":
            engagement.first_solution_at = engagement.first_solution_at or event.timestamp
            engagement.solution_ids.append(getattr(event, "solution_id", None))

    def records(self, case_id=None):
        """One plain dict per engagement (of one case, or of all): what ``summarize`` reads."""
        cases = [self.cases[case_id]] if case_id is not None else self.cases.values()
        return [
            {
                "mentor_id": e.mentor_id,
                "rubrics": list(case.rubrics),
                "opinion": e.opinion,
                "outcome": e.outcome,
                "accept_seconds": _seconds(e.chosen_at, e.accepted_at),
                "first_question_seconds": _seconds(e.accepted_at, e.first_question_at),
                "first_solution_seconds": _seconds(e.accepted_at, e.first_solution_at),
                "solutions": len(e.solution_ids),
                "second_opinion": e.second_opinion,
                "problem_solved": e.problem_solved,
                "ratings": list(e.ratings),
            }
            for case in cases
            for e in case.engagements
            if e.mentor_id is not None
        ]


# ---- the figures ------------------------------------------------------------------------------


def percentile(values, q):
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _ratio(part, whole):
    return part / whole if whole else None


def _mean(values):
    return sum(values) / len(values) if values else None


def _outcomes(records):
    """Reflection outcomes and helpfulness of the completed engagements among ``records``."""
    completed = [r for r in records if r["problem_solved"] is not None]
    ratings = [rating for r in records for rating in r["ratings"]]
    return {
        "completed": len(completed),
        "solved": {o: sum(1 for r in completed if r["problem_solved"] == o) for o in PROBLEM_SOLVED},
        "ratings": len(ratings),
        "helpfulness_mean": _mean(ratings),
    }


def mentor_figures(mentor_id, records):
    """The figures of one mentor from their engagements (contracts/statistics.py MentorQuality)."""
    answered = [r for r in records if r["outcome"] in ("accepted", "declined", "lapsed")]
    accepted = sum(1 for r in answered if r["outcome"] == "accepted")
    declined = sum(1 for r in answered if r["outcome"] == "declined")
    first_opinion_solved = [r for r in records if r["opinion"] == 1 and r["solutions"]]
    times = {}
    for name in TIMES:
        values = [r[f"{name}_seconds"] for r in records if r[f"{name}_seconds"] is not None]
        times[f"time_to_{name}"] = {
            "count": len(values),
            "median_seconds": percentile(values, 0.5),
            "p90_seconds": percentile(values, 0.9),
        }
    by_rubric = []
    for rubric in RUBRICS:
        mine = [r for r in records if rubric.slug in r["rubrics"]]
        if mine:
            by_rubric.append(
                {
                    "number": rubric.number,
                    "slug": rubric.slug,
                    "label": rubric.label,
                    "engagements": len(mine),
                    **_outcomes(mine),
                }
            )
    return {
        "mentor_id": mentor_id,
        "chosen": len(records),
        "answered": len(answered),
        "accepted": accepted,
        "declined": declined,
        "lapsed": sum(1 for r in answered if r["outcome"] == "lapsed"),
        "acceptance_rate": _ratio(accepted, len(answered)),
        "decline_rate": _ratio(declined, len(answered)),
        **times,
        "with_solution": len(first_opinion_solved),
        "second_opinions": sum(1 for r in first_opinion_solved if r["second_opinion"]),
        "second_opinion_rate": _ratio(
            sum(1 for r in first_opinion_solved if r["second_opinion"]), len(first_opinion_solved)
        ),
        **_outcomes(records),
        "by_rubric": by_rubric,
    }


# What a list of mentors sorts by (GET /api/v1/statistics/mentors?sort=...): a figure of each mentor.
SORT_KEYS = {
    "chosen": lambda m: m["chosen"],
    "acceptance_rate": lambda m: m["acceptance_rate"],
    "decline_rate": lambda m: m["decline_rate"],
    "time_to_accept": lambda m: m["time_to_accept"]["median_seconds"],
    "time_to_first_question": lambda m: m["time_to_first_question"]["median_seconds"],
    "time_to_first_solution": lambda m: m["time_to_first_solution"]["median_seconds"],
    "second_opinion_rate": lambda m: m["second_opinion_rate"],
    "completed": lambda m: m["completed"],
    "helpfulness_mean": lambda m: m["helpfulness_mean"],
}
DEFAULT_SORT = "chosen"


def summarize(records, sort=DEFAULT_SORT, descending=True):
    """Every mentor with an engagement, sorted by a figure (``SORT_KEYS``); a mentor without that
    figure (no answer yet, say) comes last either way, then by mentor id, so the order is stable."""
    by_mentor = {}
    for record in records:
        by_mentor.setdefault(record["mentor_id"], []).append(record)
    mentors = [mentor_figures(m, rs) for m, rs in by_mentor.items()]
    key = SORT_KEYS[sort]
    present = sorted((m for m in mentors if key(m) is not None), key=lambda m: m["mentor_id"])
    present.sort(key=key, reverse=descending)
    missing = sorted((m for m in mentors if key(m) is None), key=lambda m: m["mentor_id"])
    return present + missing


# ---- the projection (cases service) ------------------------------------------------------------

RELAY = "mentor-engagements"


def _refold(cur, app, notifications):
    """Each case the batch touched, folded again from its whole history: replaces its rows (exact
    and idempotent: a batch folded twice writes the same rows)."""
    from psycopg2.extras import Json

    for case_id in {n.originator_id for n in notifications}:
        fold = MentorFold()
        for domain_event in app.history(case_id):
            fold.add(domain_event)
        cur.execute("DELETE FROM mentor_engagements WHERE case_id = %s", (case_id,))
        for seq, record in enumerate(fold.records(case_id) if case_id in fold.cases else ()):
            cur.execute(
                "INSERT INTO mentor_engagements (case_id, seq, mentor_id, record) VALUES (%s, %s, %s, %s)",
                (case_id, seq, record["mentor_id"], Json(record)),
            )


def catch_up(store, app, batch=500, wait=False):
    """Fold the log past the projection's position (index.fold_log)."""
    return index.fold_log(store, app, RELAY, _refold, batch, wait)


def require_reader(actor, mentor_id=None):
    """Moderators read every mentor's figures, a mentor only their own; nobody else any."""
    if actor["role"] == "moderator":
        return mentor_id
    if actor["role"] == "mentor":
        return actor["user_id"]
    raise Forbidden("Only moderators and mentors see mentors' figures.")


def query(cur, mentor_id=None):
    """The engagement records, of one mentor or of all."""
    if mentor_id is None:
        cur.execute("SELECT record FROM mentor_engagements ORDER BY case_id, seq")
    else:
        cur.execute("SELECT record FROM mentor_engagements WHERE mentor_id = %s ORDER BY case_id, seq", (mentor_id,))
    return [row["record"] for row in cur.fetchall()]
