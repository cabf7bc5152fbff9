"""How fast does `mentor-research report` replay the cases log? Prints figures, asserts nothing.

    .venv/bin/python bench/bench_replay.py [--events 200000] [--postgres postgresql://postgres@127.0.0.1:5432]

Generates about N events by saving Case aggregates driven through varied journeys (declines,
questions, redefinitions, second opinions, completion, withdrawal) with
``CasesApplication(env=postgres_env(url))`` into the scratch database ``mentor_bench_replay``
(created at the start, dropped at the end; an existing one is dropped first), then reads it:

(a) baseline: a plain psycopg2 server-side (named) cursor ``SELECT`` of every row of
    ``cases_events`` in notification order, itersize 10,000;
(b) the report path: ``research.cli.iter_events`` (pages of ``select_notifications``, each
    mapped by ``app.mapper.to_domain_event``) folded into ``research.analytics.Statistics``;
and, to see where (b) spends its time, (b1) the same pages of ``select_notifications`` alone and
(b2) pages + mapper without the fold. See bench/README.md.
"""
import argparse
import os
import random
import sys
import time
import uuid

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from research.analytics import Statistics  # noqa: E402
from research.cli import PAGE_SIZE, iter_events, open_store  # noqa: E402
from services.cases.application import CasesApplication, postgres_env  # noqa: E402
from services.cases.domain import Case  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py, beside this script)
from contracts.rubrics import RUBRIC_SLUGS  # noqa: E402
from contracts.vocabulary import PROBLEM_SOLVED, URGENCIES  # noqa: E402

BENCH_DB = "mentor_bench_replay"
TARGET = 50_000
MENTORS = [str(uuid.uuid4()) for _ in range(40)]


def form(rng):
    return {
        "essence": "Pupils of my 7th form ignore homework and disrupt lessons.",
        "actions_taken": "Talked to the class, wrote to parents.",
        "difficulty": "I am new at the school and have no allies yet.",
        "question": "How do I restore discipline without losing the trust of the class?",
        "participants": ["pupils-form-7", "parents"],
        "rubrics": rng.sample(RUBRIC_SLUGS, rng.choice((1, 1, 2, 3))),
        "mode": rng.choice(("personal", "anonymous")),
        "group_discussion_consent": False,
        "urgency": rng.choice(URGENCIES),
        "publication_consent": True,
    }


def journey(rng, i):
    """One case through a random journey (about 15 events on average)."""
    author = str(uuid.uuid4())
    case = Case.file(uuid.uuid4(), f"BENCH-{i:07d}", author, form(rng))
    if rng.random() < 0.05:
        case.withdraw(author, "no longer needed")
        return case
    round_ = 0

    def engage():
        nonlocal round_
        while True:
            round_ += 1
            excluded = set(case._excluded_from_next_round())
            mentors = rng.sample([m for m in MENTORS if m not in excluded], 3)
            case.record_proposals(round_, [{"mentor_id": m, "matched_rubrics": [], "score": 1.0} for m in mentors])
            mentor = case.proposals[0]["mentor_id"]
            case.choose_mentor(author, mentor)
            if round_ < 6 and rng.random() < 0.25:
                case.decline(mentor, "busy")
                continue
            case.accept(mentor)
            return mentor

    mentor = engage()
    for _ in range(rng.choice((0, 1, 1, 2))):
        qids = case.ask_questions(mentor, [{"bank_id": None, "text": "Which form?", "kind": "clarifying"},
                                           {"bank_id": None, "text": "Since when?", "kind": "developing"}])
        case.answer_questions(author, [{"question_id": q, "text": "An answer."} for q in qids])
        if case.revision < 3 and rng.random() < 0.4:
            case.redefine(author, {**case.form, "essence": "More precisely: the problem is ..."})
        else:
            case.keep_request(author)
    solutions = {case.propose_solution(mentor, "Try group work and roles.", []): rng.randint(1, 5)}
    if rng.random() < 0.15:
        case.request_second_opinion(author)
        mentor = engage()
        solutions[case.propose_solution(mentor, "Another way.", [])] = rng.randint(1, 5)
    if rng.random() < 0.85:
        case.complete(author, {"problem_solved": rng.choice(PROBLEM_SOLVED), "helpfulness": solutions,
                               "actions": "", "learned": "", "comment": ""})
    return case


def generate(url, n_events, seed=1):
    rng = random.Random(seed)
    app = CasesApplication(env=postgres_env(url, pool_size=2))
    stored, cases, batch = 0, 0, []
    started = time.perf_counter()
    while stored < n_events:
        case = journey(rng, cases)
        cases += 1
        stored += len(case.pending_events)
        batch.append(case)
        if len(batch) == 100:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)
    app.close()
    return stored, cases, time.perf_counter() - started


def baseline(url):
    conn = psycopg2.connect(url)
    started = time.perf_counter()
    count = 0
    with conn:
        with conn.cursor(name="replay_baseline") as cur:
            cur.itersize = 10_000
            cur.execute("SELECT notification_id, originator_id, originator_version, topic, state "
                        "FROM cases_events ORDER BY notification_id")
            for _row in cur:
                count += 1
    elapsed = time.perf_counter() - started
    conn.close()
    return count, elapsed


def pages_only(app):
    stop = app.recorder.max_notification_id() or 0
    start, count = 1, 0
    while start <= stop:
        page = app.recorder.select_notifications(start, PAGE_SIZE, stop=stop)
        if not page:
            break
        count += len(page)
        start = page[-1].id + 1
    return count


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events to generate (default 200,000)")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    admin, url = fresh_database(args.postgres, BENCH_DB, f"N = {args.events} events")
    try:
        stored, cases, gen_elapsed = generate(url, args.events)
        print(f"generated {stored} events of {cases} cases in {gen_elapsed:.1f} s "
              f"({stored / gen_elapsed:.0f} events/s saved)", flush=True)

        count_a, elapsed_a = baseline(url)
        app = open_store(url)
        try:
            count_b1, elapsed_b1 = timed(lambda: pages_only(app))
            count_b2, elapsed_b2 = timed(lambda: sum(1 for _ in iter_events(app)))
            stats, elapsed_b = timed(lambda: Statistics().add_all(iter_events(app)))
        finally:
            app.close()
        rate_a, rate_b = count_a / elapsed_a, stats.events / elapsed_b
        print()
        print(f"(a)  raw named cursor SELECT, itersize 10k  {count_a:8d} events  {elapsed_a:7.2f} s  "
              f"{rate_a:9.0f} events/s")
        print(f"(b1) select_notifications pages only        {count_b1:8d} events  {elapsed_b1:7.2f} s  "
              f"{count_b1 / elapsed_b1:9.0f} events/s")
        print(f"(b2) pages + mapper.to_domain_event         {count_b2:8d} events  {elapsed_b2:7.2f} s  "
              f"{count_b2 / elapsed_b2:9.0f} events/s")
        print(f"(b)  pages + mapper + statistics fold       {stats.events:8d} events  {elapsed_b:7.2f} s  "
              f"{rate_b:9.0f} events/s")
        print()
        print(f"ratio (b)/(a): {rate_b / rate_a:.3f} ((a) is {rate_a / rate_b:.1f}x faster); "
              f"target for (b): >= {TARGET} events/s: {'met' if rate_b >= TARGET else 'NOT met'}")
        mapper_s = max(elapsed_b2 - elapsed_b1, 0.0)
        fold_s = max(elapsed_b - elapsed_b2, 0.0)
        print(f"time of (b): pages {elapsed_b1:.2f} s, mapper ~{mapper_s:.2f} s, fold ~{fold_s:.2f} s "
              f"({len(stats.cases)} cases folded)")
    finally:
        recreate(admin, BENCH_DB, drop_only=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
