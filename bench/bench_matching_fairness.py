"""Does matching spread the year's cases over the roll, and still propose the right mentors?

    .venv/bin/python bench/bench_matching_fairness.py [--mentors 48] [--cases 300] [--seed 2026] [--no-record]

A generated pilot year, run twice in the same process: through today's ranking (bench/baseline_ranking.py,
the service's ranking before the fair order: ties broken by mentor id, one fast answer worth a full
speed) and through services/matching/ranking.py as the service runs it (fair order among scores
closer than TIE_MARGIN: fewest cases in the last RECENT_DAYS, then least recently proposed; speed
shrunk towards neutral). Pure: no database, no broker; the read model's figures (load, answers,
recent assignments, last proposal) are kept by the simulation as matching keeps them from events.

The year (seeded, the same for both rankings):
- ``--mentors`` accredited mentors (at least 40), each advising in 1-3 of the 12 rubrics, drawn with
  the cases' skew flattened (more mentors where more cases come; every rubric has at least three),
  capacity 1-5 (mostly 2-3), a personal answer time (lognormal, median about five hours), a few
  not accepting cases for a while, a third away for one or two periods of one to four weeks;
- ``--cases`` cases over 365 days (fewer in summer), 1-2 rubrics each, skewed like the pilot's
  (class management, parents and ethics most asked for; urban projects rarely);
- each case: round 1 proposes ``K`` mentors; the mentee chooses the first (70 %), the second
  (20 %) or the third (10 %); the mentor answers after their answer time; declines 10 % (a new
  round without them, the mentee chooses again); an accepted case stays open 7-35 days.

Figures of each ranking:
- coverage: share of the qualified, available mentors (advising in a rubric of some case while
  not away, accepting and with free capacity when it was filed) who got at least one case
  (target >= 80 %);
- Gini coefficient of cases per mentor over those mentors (target <= 0.35);
- every proposal covers at least one of the case's rubrics (target: all);
- capacity and away periods respected by every proposal (target: no violation);
- how well the chosen mentors fit: mean share of the case's rubrics the chosen mentor advises in
  (the fair order must not buy spread with worse fits).

It prints both rankings side by side and appends the new one's figures beside today's to
bench/RESULTS.md (unless ``--no-record``).
"""

import argparse
import heapq
import os
import random
import statistics
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import baseline_ranking  # noqa: E402  (bench/baseline_ranking.py: today's ranking)
from results import append_result, machine  # noqa: E402

from contracts.rubrics import RUBRIC_SLUGS  # noqa: E402
from services.matching import ranking  # noqa: E402

K = 3
RECENT_DAYS = 90
YEAR_START = datetime(2026, 9, 1, tzinfo=timezone.utc)
CASE_WEIGHTS = {  # how often each rubric is asked for (the pilot's skew)
    "education-law": 6,
    "professional-ethics": 12,
    "class-management-motivation": 18,
    "digital-technologies": 7,
    "individualization": 8,
    "teaching-methods": 11,
    "monitoring-evaluation": 6,
    "urban-educational-projects": 2,
    "self-management": 5,
    "interaction-with-parents": 15,
    "personal-resources": 6,
    "families-at-risk": 4,
}
CHOICE = (0.7, 0.2, 0.1)  # the mentee takes the first, second or third proposal
DECLINE = 0.1
TARGET_COVERAGE, TARGET_GINI = 0.80, 0.35


# ---- the year -------------------------------------------------------------------------------


def weighted_sample(rng, weights, n):
    """``n`` distinct keys of ``weights``, drawn in proportion to their weights."""
    keys, chosen = list(weights), []
    while len(chosen) < n:
        pick = rng.choices(keys, [weights[k] for k in keys])[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def make_mentors(rng, n):
    flattened = {r: w**0.6 for r, w in CASE_WEIGHTS.items()}
    mentors = []
    for i in range(n):
        rubrics = set(weighted_sample(rng, flattened, rng.choice((1, 1, 2, 2, 2, 3))))
        mentors.append(
            {
                "id": f"m-{i:03d}",
                "rubrics": rubrics,
                "capacity": rng.choice((1, 2, 2, 3, 3, 3, 4, 5)),
                "answer_seconds": min(rng.lognormvariate(9.8, 1.0), 5 * 86400.0),
                "away": [],
                "closed": None,
            }
        )
    for slug in RUBRIC_SLUGS:  # every rubric has at least three mentors
        have = [m for m in mentors if slug in m["rubrics"]]
        for m in rng.sample([m for m in mentors if slug not in m["rubrics"]], max(0, 3 - len(have))):
            m["rubrics"].add(slug)
    for m in rng.sample(mentors, n // 3):
        for _ in range(rng.choice((1, 1, 2))):
            start = YEAR_START.date() + timedelta(days=rng.randint(0, 340))
            m["away"].append((start, start + timedelta(days=rng.randint(7, 28))))
    for m in rng.sample(mentors, max(1, n // 12)):  # not accepting cases for a month or two
        start = YEAR_START.date() + timedelta(days=rng.randint(0, 300))
        m["closed"] = (start, start + timedelta(days=rng.randint(30, 60)))
    return mentors


def make_cases(rng, n):
    cases = []
    for i in range(n):
        while True:  # fewer cases in the summer holidays (June to August)
            day = rng.uniform(0, 365)
            if (YEAR_START + timedelta(days=day)).month not in (6, 7, 8) or rng.random() < 0.25:
                break
        cases.append(
            {
                "id": f"c-{i:03d}",
                "at": YEAR_START + timedelta(days=day),
                "rubrics": weighted_sample(rng, CASE_WEIGHTS, rng.choice((1, 1, 1, 2, 2))),
                "draws": random.Random(rng.random()),
            }
        )  # the mentee's and mentors' dice for this case
    return sorted(cases, key=lambda c: c["at"])


# ---- running it through one ranking -----------------------------------------------------------


class Roll:
    """What matching's read model knows of each mentor, kept from the simulated events."""

    def __init__(self, mentors):
        self.mentors = {m["id"]: m for m in mentors}
        self.load = {m["id"]: 0 for m in mentors}
        self.answers = {m["id"]: [] for m in mentors}
        self.chosen_at = {m["id"]: [] for m in mentors}
        self.proposed_at = {m["id"]: None for m in mentors}

    def accepting(self, m, day):
        return not (m["closed"] and m["closed"][0] <= day <= m["closed"][1])

    def candidates(self, new, now):
        since = now - timedelta(days=RECENT_DAYS)
        found = []
        for mid, m in self.mentors.items():
            answers = self.answers[mid]
            median = statistics.median(answers) if answers else None
            common = dict(
                accepting_cases=self.accepting(m, now.date()),
                accredited=True,
                capacity=m["capacity"],
                load=self.load[mid],
                away_periods=tuple(m["away"]),
                median_response_seconds=median,
            )
            if new:
                found.append(
                    ranking.Candidate(
                        mid,
                        frozenset(m["rubrics"]),
                        responses=len(answers),
                        recent_assignments=sum(t >= since for t in self.chosen_at[mid]),
                        last_proposed_at=self.proposed_at[mid],
                        **common,
                    )
                )
            else:
                found.append(baseline_ranking.Candidate(mid, frozenset(m["rubrics"]), **common))
        return found

    def available_for(self, rubrics, day):
        """Mentors qualified for a case and available when it was filed."""
        return {
            mid
            for mid, m in self.mentors.items()
            if m["rubrics"] & set(rubrics)
            and self.accepting(m, day)
            and self.load[mid] < m["capacity"]
            and not any(s <= day <= e for s, e in m["away"])
        }


def simulate(mentors, cases, new):
    roll = Roll(mentors)
    rank = ranking.rank if new else baseline_ranking.rank
    events = []  # (time, order, kind, data): answers and closings, in time order
    order = 0
    cases_of = {m["id"]: 0 for m in mentors}
    qualified = set()
    checks = {"proposals": 0, "uncovered": 0, "over_capacity": 0, "away": 0, "unmatched": 0}
    fits = []

    def propose(case, now, exclude):
        found = rank(case["rubrics"], roll.candidates(new, now), k=K, exclude=exclude, today=now.date())
        for p in found:
            m = roll.mentors[p["mentor_id"]]
            checks["proposals"] += 1
            checks["uncovered"] += not (set(p["matched_rubrics"]) & set(case["rubrics"]))
            checks["over_capacity"] += roll.load[m["id"]] >= m["capacity"]
            checks["away"] += any(s <= now.date() <= e for s, e in m["away"])
            roll.proposed_at[m["id"]] = now
        return found

    def choose(case, now, found):
        nonlocal order
        if not found:
            checks["unmatched"] += 1
            return
        draws = case["draws"]
        pick = draws.choices(range(len(found)), CHOICE[: len(found)])[0]
        mid = found[pick]["mentor_id"]
        m = roll.mentors[mid]
        roll.load[mid] += 1
        roll.chosen_at[mid].append(now)
        cases_of[mid] += 1
        fits.append(len(m["rubrics"] & set(case["rubrics"])) / len(case["rubrics"]))
        answer = m["answer_seconds"] * draws.uniform(0.5, 1.5)
        declines = draws.random() < DECLINE
        order += 1
        heapq.heappush(events, (now + timedelta(seconds=answer), order, "answer", (case, mid, answer, declines)))

    def run_until(moment):
        nonlocal order
        while events and events[0][0] <= moment:
            at, _, kind, data = heapq.heappop(events)
            if kind == "answer":
                case, mid, answer, declines = data
                roll.answers[mid].append(answer)
                if declines:
                    roll.load[mid] -= 1
                    case["asked"].add(mid)
                    choose(case, at, propose(case, at, case["asked"]))
                else:
                    order += 1
                    heapq.heappush(events, (at + timedelta(days=case["draws"].uniform(7, 35)), order, "close", mid))
            else:
                roll.load[data] -= 1

    for case in cases:
        run_until(case["at"])
        case["asked"] = set()
        qualified |= roll.available_for(case["rubrics"], case["at"].date())
        choose(case, case["at"], propose(case, case["at"], ()))
    run_until(YEAR_START + timedelta(days=800))
    counts = [cases_of[mid] for mid in sorted(qualified)]
    return {
        "coverage": sum(c > 0 for c in counts) / len(counts) if counts else 0.0,
        "gini": gini(counts),
        "qualified": len(counts),
        "with_case": sum(c > 0 for c in counts),
        "max": max(counts, default=0),
        "fit": statistics.mean(fits) if fits else 0.0,
        **checks,
    }


def gini(values):
    """0: every mentor the same number of cases; towards 1: all cases to one mentor."""
    values = sorted(values)
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(values))
    return (2 * weighted) / (n * total) - (n + 1) / n


# ---- the report ---------------------------------------------------------------------------------


def verdict(ok):
    return "met" if ok else "NOT met"


def describe(name, r):
    return (
        f"{name:34} coverage {r['with_case']}/{r['qualified']} = {r['coverage']:.0%}, Gini {r['gini']:.2f}, "
        f"busiest {r['max']} cases, fit {r['fit']:.2f}, proposals {r['proposals']}: uncovered {r['uncovered']}, "
        f"over capacity {r['over_capacity']}, away {r['away']}, no mentor {r['unmatched']}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentors", type=int, default=48)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.mentors < 40:
        parser.error("--mentors: at least 40 (the issue's year)")
    load_before = os.getloadavg()[0]
    rng = random.Random(args.seed)
    mentors, cases = make_mentors(rng, args.mentors), make_cases(rng, args.cases)
    results = {}
    for name, new in (("today's ranking (ties on id)", False), ("fair order (services/matching)", True)):
        year = [dict(c, draws=random.Random(i + args.seed)) for i, c in enumerate(cases)]  # the same dice
        results[new] = simulate([dict(m, rubrics=set(m["rubrics"])) for m in mentors], year, new)
        print(describe(name, results[new]))
    new, old = results[True], results[False]
    safe = new["uncovered"] == new["over_capacity"] == new["away"] == 0
    print(
        f"targets: coverage >= {TARGET_COVERAGE:.0%}: {verdict(new['coverage'] >= TARGET_COVERAGE)}; "
        f"Gini <= {TARGET_GINI}: {verdict(new['gini'] <= TARGET_GINI)}; every proposal covers a rubric, "
        f"capacity and away respected: {verdict(safe)}"
    )
    if not args.no_record:
        append_result(
            "bench_matching_fairness",
            f"a generated year: {args.mentors} mentors over 12 rubrics, {args.cases} cases (skewed rubrics, "
            f"mentee takes 1st/2nd/3rd proposal 70/20/10 %, 10 % declines, capacity and away periods), "
            f"seed {args.seed}",
            f"fair order: {new['coverage']:.0%} of {new['qualified']} qualified available mentors got a case "
            f"(target >= 80 %: {verdict(new['coverage'] >= TARGET_COVERAGE)}), Gini {new['gini']:.2f} "
            f"(target <= 0.35: {verdict(new['gini'] <= TARGET_GINI)}), busiest {new['max']}, fit {new['fit']:.2f}; "
            f"{new['proposals']} proposals: {new['uncovered']} without a case rubric, {new['over_capacity']} over "
            f"capacity, {new['away']} away ({verdict(safe)})",
            f"today's ranking: {old['coverage']:.0%} got a case, Gini {old['gini']:.2f}, busiest {old['max']}, "
            f"fit {old['fit']:.2f}",
            f"coverage {new['coverage'] / old['coverage']:.2f}x, Gini {new['gini'] / old['gini']:.2f}x"
            if old["coverage"] and old["gini"]
            else "-",
            machine(load=(load_before, os.getloadavg()[0])),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
