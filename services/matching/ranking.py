"""Who should get a case: a documented score over the mentors who may be asked at all, and a
fair order among those the score cannot tell apart. Pure.

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
- ``speed``: how fast the mentor answers (from being chosen to accepting or declining), as an
  estimate that trusts history in proportion to its length. One answer's speed is
  ``R / (R + median response)`` with ``R`` = one day (1.0 for instant answers, 0.5 for a day,
  0.25 for three days); the estimate is that, shrunk towards the neutral 0.5 (answering in a day)
  as if the mentor had also given ``PRIOR_RESPONSES`` answers of neutral speed::

      speed = (n * R / (R + median) + PRIOR_RESPONSES * 0.5) / (n + PRIOR_RESPONSES)

  So a mentor new to the roll (n = 0) is neutral, 0.5, and one lucky fast answer (n = 1) is
  0.625, not 1.0: a newcomer is not ranked below everyone for lack of history (the pilot year's
  loop: one fast answer outranked every mentor without history, and was proposed again and again).

Fair order. Scores closer than ``TIE_MARGIN`` say nothing about who is the better mentor for the
case, so proposals are picked one at a time: among the mentors scoring within ``TIE_MARGIN`` of
the best one left, the one with the fewest recent assignments (chosen for a case in the last
``MATCHING_RECENT_DAYS``) comes first, then the one proposed least recently (never proposed
first), then the higher score, then the mentor id (reproducible). A proposal says why it came
before the next mentor of its tie (``reasons``): ``fewer_recent_cases`` or
``less_recently_proposed`` when that rule decided it, and ``new_to_roll`` when it has no answer
history yet (its speed is the neutral estimate).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from contracts.vocabulary import PROPOSAL_REASONS

OVERLAP_WEIGHT = 0.60
FREE_WEIGHT = 0.25
SPEED_WEIGHT = 0.15
RESPONSE_REFERENCE_SECONDS = 24 * 3600.0
NEUTRAL_SPEED = 0.5
PRIOR_RESPONSES = 3  # how many neutral answers the speed estimate assumes besides the real ones
TIE_MARGIN = 0.05  # scores closer than this are a tie, decided by the fair order

# Why a proposal came first among mentors the score could not tell apart (services/web catalogue
# ``case.choose.reason.<kind>``).
FEWER_RECENT_CASES, LESS_RECENTLY_PROPOSED, NEW_TO_ROLL = PROPOSAL_REASONS


@dataclass(frozen=True)
class Candidate:
    mentor_id: str
    rubrics: frozenset[str]
    accepting_cases: bool = True
    accredited: bool = False
    capacity: int = 3
    load: int = 0
    away_periods: tuple[tuple[date, date], ...] = field(default=())  # ((starts_on, ends_on), ...) as dates, inclusive
    median_response_seconds: float | None = None  # None: no history yet
    responses: int = 0  # answers the median is taken over
    recent_assignments: int = 0  # cases the mentor was chosen for lately
    last_proposed_at: datetime | None = None  # None: never proposed

    def is_away(self, today: date) -> bool:
        return any(start <= today <= end for start, end in self.away_periods)

    @property
    def free(self) -> int:
        return max(self.capacity - self.load, 0)

    @property
    def new_to_roll(self) -> bool:
        return self.median_response_seconds is None


# a proposal (``rank``'s result) and the candidate it is of
Proposal = dict[str, Any]
Scored = tuple[Proposal, Candidate]


def speed(median_response_seconds: float | None, responses: int | None = 1) -> float:
    """The speed estimate (module docstring): 1.0 for instant answers and long history, the
    neutral 0.5 without history (``None``); ``responses`` below 1 with a median count as 1."""
    if median_response_seconds is None:
        return NEUTRAL_SPEED
    seconds = max(float(median_response_seconds), 0.0)
    n = max(int(responses or 0), 1)
    observed = RESPONSE_REFERENCE_SECONDS / (RESPONSE_REFERENCE_SECONDS + seconds)
    return (n * observed + PRIOR_RESPONSES * NEUTRAL_SPEED) / (n + PRIOR_RESPONSES)


def score(
    overlap: float, load: int, capacity: int, median_response_seconds: float | None = None, responses: int | None = 1
) -> float:
    """The documented score (module docstring); ``overlap`` is a share in [0, 1]."""
    free = max(capacity - load, 0) / capacity if capacity > 0 else 0.0
    return round(
        OVERLAP_WEIGHT * overlap + FREE_WEIGHT * free + SPEED_WEIGHT * speed(median_response_seconds, responses), 4
    )


def _proposed_order(candidate: Candidate) -> tuple[int] | tuple[int, datetime]:
    """Never proposed first, then the longest ago."""
    at = candidate.last_proposed_at
    return (0,) if at is None else (1, at)


def _fair_key(entry: Scored) -> tuple[Any, ...]:
    _, candidate = entry
    return (candidate.recent_assignments, _proposed_order(candidate), -entry[0]["score"], candidate.mentor_id)


def _reasons(entry: Scored, rivals: list[Scored]) -> list[str]:
    """Why ``entry`` came before the next in the fair order among the ``rivals`` it tied with."""
    candidate = entry[1]
    reasons: list[str] = []
    runner_up = min(rivals, key=_fair_key)[1] if rivals else None
    if runner_up is not None and runner_up.recent_assignments > candidate.recent_assignments:
        reasons.append(FEWER_RECENT_CASES)
    elif runner_up is not None and _proposed_order(runner_up) > _proposed_order(candidate):
        reasons.append(LESS_RECENTLY_PROPOSED)
    if candidate.new_to_roll:
        reasons.append(NEW_TO_ROLL)
    return reasons


def fair_order(scored: Iterable[Scored], k: int, tie_margin: float = TIE_MARGIN) -> list[Proposal]:
    """``k`` of ``scored`` ((proposal, candidate) pairs), picked one at a time: the fairest
    (``_fair_key``) among those scoring less than ``tie_margin`` below the best score left (the
    scores are rounded to 4 decimals, so is their difference: no float noise decides a tie)."""
    left = sorted(scored, key=lambda e: (-e[0]["score"], e[1].mentor_id))
    picked: list[Proposal] = []
    while left and len(picked) < k:
        best = left[0][0]["score"]
        tied = [e for e in left if round(best - e[0]["score"], 4) < tie_margin or e is left[0]]
        chosen = min(tied, key=_fair_key)
        chosen[0]["reasons"] = _reasons(chosen, [e for e in tied if e is not chosen])
        picked.append(chosen[0])
        left = [e for e in left if e is not chosen]
    return picked


def rank(
    case_rubrics: Iterable[str],
    candidates: Iterable[Candidate],
    k: int = 3,
    exclude: Iterable[str] | None = (),
    today: date | None = None,
    require_free_capacity: bool = True,
    require_accepting: bool = True,
    tie_margin: float = TIE_MARGIN,
) -> list[Proposal]:
    """The top ``k`` proposals in the fair order: ``{mentor_id, matched_rubrics, score, load,
    capacity, recent_assignments, reasons}``.

    ``today`` (a date) decides who is away; None checks no away periods. Colleague suggestions
    relax ``require_free_capacity`` and ``require_accepting`` (an opinion is not a case to take);
    accreditation, rubric overlap and absence always apply.
    """
    wanted = set(case_rubrics)
    excluded = set(exclude or ())
    if not wanted or k <= 0:
        return []
    scored: list[Scored] = []
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
            (
                {
                    "mentor_id": c.mentor_id,
                    "matched_rubrics": matched,
                    "score": score(
                        len(matched) / len(wanted), c.load, c.capacity, c.median_response_seconds, c.responses
                    ),
                    "load": c.load,
                    "capacity": c.capacity,
                    "recent_assignments": c.recent_assignments,
                },
                c,
            )
        )
    return fair_order(scored, k, tie_margin)
