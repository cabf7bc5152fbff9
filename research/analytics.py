"""Statistics of the cases event log: a pure fold of domain events (no I/O).

Feed events in log order to ``Statistics.add`` (or use ``fold``); the event's kind is its class
name (``Created``, ``MentorAccepted``, ...), as ``Case`` events have. Per case only a few numbers
are kept (``_CaseStats``, slotted); texts, forms and ids other than the case's are dropped.

A case is counted under the rubrics and the urgency of its *first* form (the ``Created`` event);
a redefinition may change them but the case stays where it started, so that groups do not shift
while a case is worked on. Definitions:

- questions: each question asked (a ``QuestionsAsked`` event may carry several), clarifying and
  developing apart; rounds of questions (``QuestionsAsked`` events) and ``CaseRedefined`` events;
- time to acceptance: ``Created`` -> first ``MentorAccepted``, in hours;
- time to first solution: ``Created`` -> first ``SolutionProposed``, in hours;
- decline rate: ``MentorDeclined`` / ``MentorChosen`` (declines per mentor chosen);
- second-opinion rate: cases with a ``SecondOpinionRequested`` / cases with at least one solution;
- reflection outcomes: ``problem_solved`` (yes / partly / no) of ``Completed.reflection``;
- cases over time: cases per rubric per month (``YYYY-MM``, UTC) of ``Created``;
- mentor quality: per mentor, the figures of services/cases/mentor_quality.py (the same fold the
  moderators' figures come from), from the same events.

Rubrics come in the rubricator's order (contracts/rubrics.py), as everywhere else.
"""

import datetime
import statistics
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from contracts.rubrics import RUBRIC_SLUGS
from services.cases import mentor_quality

OUTCOMES = ("yes", "partly", "no")
OVERALL = "all"
QUESTION_KINDS = ("clarifying", "developing")
_RUBRIC_PLACE = {slug: place for place, slug in enumerate(RUBRIC_SLUGS)}

# A Case event (services/cases/domain.py) or a replay's stand-in with the same fields (research/replay.py):
# which fields it has depends on its kind, so it is read duck-typed.
Event = Any
Summary = dict[str, Any]  # ``summarize``'s figures
GroupKey = tuple[str, str]  # (dimension, value)


def rubric_place(slug: str) -> tuple[int, str]:
    """Where a rubric stands in the rubricator (an unknown slug after all of them, by name)."""
    return (_RUBRIC_PLACE.get(slug, len(_RUBRIC_PLACE)), slug)


class _CaseStats:
    __slots__ = (
        "rubrics",
        "urgency",
        "created",
        "accepted",
        "first_solution",
        "questions",
        "clarifying",
        "developing",
        "question_rounds",
        "redefinitions",
        "chosen",
        "declined",
        "second_opinion",
        "solved",
        "withdrawn",
    )

    def __init__(self, rubrics: tuple[str, ...], urgency: str, created: datetime.datetime) -> None:
        self.rubrics = rubrics
        self.urgency = urgency
        self.created = created
        self.accepted: datetime.datetime | None = None
        self.first_solution: datetime.datetime | None = None
        self.questions = 0
        self.clarifying = 0
        self.developing = 0
        self.question_rounds = 0
        self.redefinitions = 0
        self.chosen = 0
        self.declined = 0
        self.second_opinion = False
        self.solved: str | None = None
        self.withdrawn = False


def _hours(start: datetime.datetime | None, end: datetime.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600.0


def _month(timestamp: datetime.datetime) -> str:
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(datetime.timezone.utc)
    return f"{timestamp.year:04d}-{timestamp.month:02d}"


class Statistics:
    """The fold's state; ``add`` one event at a time, then read ``groups()``/``by_month()``."""

    def __init__(self) -> None:
        self.cases: dict[Any, _CaseStats] = {}  # by the case's id (a UUID, or its text in a replay)
        self.events = 0
        self.unknown_case_events = 0  # events of a case whose Created was not seen
        self.mentors = mentor_quality.MentorFold()

    # ---- the fold -----------------------------------------------------------------------

    # The kinds of event whose fields (beyond the kind and the case) the fold reads: a replay may
    # pass ``event=None`` for every other kind without decoding it (research/replay.py).
    FIELD_KINDS = (
        frozenset(("Created", "MentorAccepted", "SolutionProposed", "Completed", "QuestionsAsked"))
        | mentor_quality.FIELD_KINDS
    )

    def add(self, event: Event) -> None:
        self.add_kind(type(event).__name__, event.originator_id, event)

    def add_kind(self, kind: str, case_id: Any, event: Event) -> None:
        """One event, given its kind (its class name) and its case; ``event`` is read only when
        ``kind`` is in ``FIELD_KINDS`` (may be None otherwise)."""
        self.events += 1
        self.mentors.add_kind(kind, case_id, event)
        if kind == "Created":
            form = event.form or {}
            self.cases[case_id] = _CaseStats(
                tuple(form.get("rubrics") or ()), form.get("urgency") or "unknown", event.timestamp
            )
            return
        case = self.cases.get(case_id)
        if case is None:
            self.unknown_case_events += 1
            return
        if kind == "MentorChosen":
            case.chosen += 1
        elif kind == "MentorAccepted":
            if case.accepted is None:
                case.accepted = event.timestamp
        elif kind == "MentorDeclined":
            case.declined += 1
        elif kind == "SecondOpinionRequested":
            case.second_opinion = True
        elif kind == "QuestionsAsked":
            questions = getattr(event, "questions", None) or ()
            case.question_rounds += 1
            case.questions += len(questions)
            case.clarifying += sum(1 for q in questions if q.get("kind") == "clarifying")
            case.developing += sum(1 for q in questions if q.get("kind") == "developing")
        elif kind == "CaseRedefined":
            case.redefinitions += 1
        elif kind == "SolutionProposed":
            if case.first_solution is None:
                case.first_solution = event.timestamp
        elif kind == "Completed":
            case.solved = (event.reflection or {}).get("problem_solved")
        elif kind in ("Withdrawn", "AuthorErased"):  # a case closed by its author's erasure counts as withdrawn
            case.withdrawn = True

    def add_all(self, events: Iterable[Event]) -> "Statistics":
        for event in events:
            self.add(event)
        return self

    # ---- the results --------------------------------------------------------------------

    def _group_keys(self, case: _CaseStats) -> Iterator[GroupKey]:
        yield ("overall", OVERALL)
        for rubric in case.rubrics:
            yield ("rubric", rubric)
        yield ("urgency", case.urgency)

    def groups(self) -> dict[GroupKey, Summary]:
        """{(dimension, value): summary dict}; dimension is overall, rubric or urgency."""
        members: dict[GroupKey, list[_CaseStats]] = {}
        for case in self.cases.values():
            for key in self._group_keys(case):
                members.setdefault(key, []).append(case)
        order = {"overall": 0, "rubric": 1, "urgency": 2}
        return {
            key: summarize(members[key])
            for key in sorted(
                members, key=lambda k: (order[k[0]], rubric_place(k[1]) if k[0] == "rubric" else (0, k[1]))
            )
        }

    def by_month(self) -> dict[tuple[str, str], int]:
        """{(rubric, 'YYYY-MM'): number of cases created}, rubrics in the rubricator's order."""
        counts: dict[tuple[str, str], int] = {}
        for case in self.cases.values():
            month = _month(case.created)
            for rubric in case.rubrics:
                counts[(rubric, month)] = counts.get((rubric, month), 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (rubric_place(item[0][0]), item[0][1])))

    def mentor_quality(self) -> list[dict[str, Any]]:
        """Every mentor's figures (services/cases/mentor_quality.py), most often chosen first."""
        figures: list[dict[str, Any]] = mentor_quality.summarize(self.mentors.records())
        return figures

    def acceptance_hours(self, dimension: str = "urgency") -> dict[str, list[float]]:
        """{group value: [hours to acceptance of each accepted case]} (for box plots)."""
        values: dict[str, list[float]] = {}
        for case in self.cases.values():
            hours = _hours(case.created, case.accepted)
            if hours is None:
                continue
            for dim, value in self._group_keys(case):
                if dim == dimension:
                    values.setdefault(value, []).append(hours)
        return dict(sorted(values.items()))


def fold(events: Iterable[Event]) -> Statistics:
    return Statistics().add_all(events)


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(cases: Sequence[_CaseStats]) -> Summary:
    """The figures of one group of cases."""
    accepted = [h for h in (_hours(c.created, c.accepted) for c in cases) if h is not None]
    solution = [h for h in (_hours(c.created, c.first_solution) for c in cases) if h is not None]
    chosen = sum(c.chosen for c in cases)
    declined = sum(c.declined for c in cases)
    with_solution = sum(1 for c in cases if c.first_solution is not None)
    second = sum(1 for c in cases if c.second_opinion)
    outcomes = {o: sum(1 for c in cases if c.solved == o) for o in OUTCOMES}
    completed = sum(1 for c in cases if c.solved is not None)
    return {
        "cases": len(cases),
        "accepted": len(accepted),
        "completed": completed,
        "withdrawn": sum(1 for c in cases if c.withdrawn),
        "questions_asked_total": sum(c.questions for c in cases),
        "questions_asked_mean": _mean([c.questions for c in cases]),
        **{f"questions_{kind}": sum(getattr(c, kind) for c in cases) for kind in QUESTION_KINDS},
        "question_rounds_total": sum(c.question_rounds for c in cases),
        "redefinitions_total": sum(c.redefinitions for c in cases),
        "redefinitions_mean": _mean([c.redefinitions for c in cases]),
        "hours_to_acceptance_mean": _mean(accepted),
        "hours_to_acceptance_median": _median(accepted),
        "hours_to_first_solution_mean": _mean(solution),
        "hours_to_first_solution_median": _median(solution),
        "mentors_chosen": chosen,
        "declines": declined,
        "decline_rate": declined / chosen if chosen else None,
        "cases_with_solution": with_solution,
        "second_opinions": second,
        "second_opinion_rate": second / with_solution if with_solution else None,
        **{f"solved_{o}": outcomes[o] for o in OUTCOMES},
    }


SUMMARY_COLUMNS = tuple(summarize([]).keys())
