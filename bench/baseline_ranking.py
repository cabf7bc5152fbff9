"""Who should get a case: a documented score over the mentors who may be asked at all. Pure.

Eligibility (a mentor failing any of these is never proposed, whatever the score):
- accredited (on the roll of mentors, not suspended) and accepting cases;
- advises in at least one of the case's rubrics;
- not away today (away periods are inclusive dates);
- has free capacity: ``capacity - load > 0``, where ``load`` is the mentor's open cases
  (chosen or accepted, and not yet declined, escalated, completed or withdrawn);
- not excluded for this case (see services/matching/rounds.py for who is excluded).

Score, in [0, 1], rounded to 4 decimals::

    score = 0.60 * overlap + 0.25 * free + 0.15 * speed

- ``overlap`` = share of the case's rubrics the mentor advises in (what the mentee asked for
  weighs most: a mentor covering every rubric of the case beats one covering half, unless the
  first is nearly full and slow);
- ``free`` = ``(capacity - load) / capacity``: who can really consult soon (seed 6.2, step 2);
- ``speed`` = ``R / (R + median response)``, with ``R`` = one day: the median time the mentor took
  from being chosen to accepting or declining (1.0 for instant answers, 0.5 for a day, 0.25 for
  three days). A mentor with no history yet is neutral: 0.5, as if answering in a day.

Ties break on mentor id, so a round is reproducible.
"""

from dataclasses import dataclass, field

OVERLAP_WEIGHT = 0.60
FREE_WEIGHT = 0.25
SPEED_WEIGHT = 0.15
RESPONSE_REFERENCE_SECONDS = 24 * 3600.0
NEUTRAL_SPEED = 0.5


@dataclass(frozen=True)
class Candidate:
    mentor_id: str
    rubrics: frozenset
    accepting_cases: bool = True
    accredited: bool = False
    capacity: int = 3
    load: int = 0
    away_periods: tuple = field(default=())  # ((starts_on, ends_on), ...) as dates, inclusive
    median_response_seconds: float = None  # None: no history yet

    def is_away(self, today):
        return any(start <= today <= end for start, end in self.away_periods)

    @property
    def free(self):
        return max(self.capacity - self.load, 0)


def speed(median_response_seconds):
    """1.0 for an instant answer, 0.5 for a day; ``None`` (no history) is the neutral 0.5."""
    if median_response_seconds is None:
        return NEUTRAL_SPEED
    seconds = max(float(median_response_seconds), 0.0)
    return RESPONSE_REFERENCE_SECONDS / (RESPONSE_REFERENCE_SECONDS + seconds)


def score(overlap, load, capacity, median_response_seconds=None):
    """The documented score (module docstring); ``overlap`` is a share in [0, 1]."""
    free = max(capacity - load, 0) / capacity if capacity > 0 else 0.0
    return round(OVERLAP_WEIGHT * overlap + FREE_WEIGHT * free + SPEED_WEIGHT * speed(median_response_seconds), 4)


def rank(case_rubrics, candidates, k=3, exclude=(), today=None, require_free_capacity=True, require_accepting=True):
    """The top ``k`` proposals, best first: ``{mentor_id, matched_rubrics, score, load, capacity}``.

    ``today`` (a date) decides who is away; None checks no away periods. Colleague suggestions
    relax ``require_free_capacity`` and ``require_accepting`` (an opinion is not a case to take);
    accreditation, rubric overlap and absence always apply.
    """
    wanted = set(case_rubrics)
    excluded = set(exclude or ())
    if not wanted or k <= 0:
        return []
    scored = []
    for c in candidates:
        if not c.accredited or c.mentor_id in excluded:
            continue
        if require_accepting and not c.accepting_cases:
            continue
        if require_free_capacity and c.free <= 0:
            continue
        if today is not None and c.is_away(today):
            continue
        matched = sorted(wanted & set(c.rubrics))
        if not matched:
            continue
        scored.append(
            {
                "mentor_id": c.mentor_id,
                "matched_rubrics": matched,
                "score": score(len(matched) / len(wanted), c.load, c.capacity, c.median_response_seconds),
                "load": c.load,
                "capacity": c.capacity,
            }
        )
    scored.sort(key=lambda p: (-p["score"], p["mentor_id"]))
    return scored[:k]
