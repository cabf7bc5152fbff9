"""How fast does `mentor-research report` replay the cases log? Prints figures, asserts nothing.

    .venv/bin/python bench/bench_replay.py [--events 200000] [--runs 3] [--split] [--profile out.html]
                                           [--no-record] [--postgres postgresql://postgres@127.0.0.1:5432]

Generates about N events by saving Case aggregates driven through varied journeys (declines,
questions, redefinitions, second opinions, completion, withdrawal) with
``CasesApplication(env=postgres_env(url))`` into the scratch database ``mentor_bench_replay``
(created at the start, dropped at the end; an existing one is dropped first), then reads it,
``--runs`` rounds (order rotated), medians printed:

(a)  baseline: a plain psycopg2 server-side (named) cursor ``SELECT`` of every row (all columns)
     of ``cases_events`` in notification order, itersize 10,000, rows counted;
(a2) the same raw cursor over the columns the fast path selects (``originator_id::text``,
     version, topic, state sent only for the topics whose state the fold reads), rows counted;
(c)  the report path now: ``research.replay.fold_statistics`` (one named cursor, only the
     events whose fields the fold reads decoded by the app's mapper) into ``Statistics``;
(b)  the generic path: ``research.cli.iter_events`` (pages of ``select_notifications``, each
     mapped by ``app.mapper.to_domain_event``) folded into ``research.analytics.Statistics``;
and with ``--split``, once, (b1) the same pages alone and (b2) pages + mapper without the fold.
Checks that (c) and (b) give the same statistics; appends the medians to bench/RESULTS.md unless
``--no-record``; ``--profile FILE.html`` profiles one extra (c) with pyinstrument. See bench/README.md.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from results import append_result, machine  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py, beside this script)

from contracts.case_form import example_case_form  # noqa: E402
from contracts.rubrics import RUBRIC_SLUGS  # noqa: E402
from contracts.vocabulary import PROBLEM_SOLVED, URGENCIES  # noqa: E402
from research.analytics import Statistics  # noqa: E402
from research.cli import PAGE_SIZE, iter_events, open_store  # noqa: E402
from research.replay import _state_topics, fold_statistics  # noqa: E402
from services.cases.application import CasesApplication, postgres_env  # noqa: E402
from services.cases.domain import Case  # noqa: E402
from services.common.clock import utc_now  # noqa: E402

BENCH_DB = "mentor_bench_replay"
TARGET_RATIO = 0.5  # issue #10: replay at >= 0.5x a raw cursor SELECT of the same rows
MENTORS = [str(uuid.uuid4()) for _ in range(40)]


def form(rng):
    return example_case_form(
        rubrics=rng.sample(RUBRIC_SLUGS, rng.choice((1, 1, 2, 3))),
        mode=rng.choice(("personal", "anonymous")),
        urgency=rng.choice(URGENCIES),
    )


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
            case.record_proposals(
                round_, [{"mentor_id": m, "matched_rubrics": [], "score": 1.0} for m in mentors], now=utc_now()
            )
            mentor = case.proposals[0]["mentor_id"]
            case.choose_mentor(author, mentor, now=utc_now())
            if round_ < 6 and rng.random() < 0.25:
                case.decline(mentor, "busy")
                continue
            case.accept(mentor, now=utc_now())
            return mentor

    mentor = engage()
    for _ in range(rng.choice((0, 1, 1, 2))):
        qids = case.ask_questions(
            mentor,
            [
                {"bank_id": None, "text": "Which form?", "kind": "clarifying"},
                {"bank_id": None, "text": "Since when?", "kind": "developing"},
            ],
            now=utc_now(),
        )
        case.answer_questions(author, [{"question_id": q, "text": "An answer."} for q in qids], now=utc_now())
        if case.revision < 3 and rng.random() < 0.4:
            case.redefine(author, {**case.form, "essence": "More precisely: the problem is ..."}, now=utc_now())
        else:
            case.keep_request(author, now=utc_now())
    solutions = {case.propose_solution(mentor, "Try group work and roles.", [], now=utc_now()): rng.randint(1, 5)}
    if rng.random() < 0.15:
        case.request_second_opinion(author)
        mentor = engage()
        solutions[case.propose_solution(mentor, "Another way.", [], now=utc_now())] = rng.randint(1, 5)
    if rng.random() < 0.85:
        case.complete(
            author,
            {
                "problem_solved": rng.choice(PROBLEM_SOLVED),
                "helpfulness": solutions,
                "actions": "",
                "learned": "",
                "comment": "",
            },
        )
    return case


def journeys(seed=1, start=0):
    """Cases through seeded random journeys, endlessly (numbered from ``start``); also bench_growth.py's."""
    rng = random.Random(seed)
    number = start
    while True:
        yield journey(rng, number)
        number += 1


def generate(url, n_events, seed=1):
    app = CasesApplication(env=postgres_env(url, pool_size=2))
    stored, cases, batch = 0, 0, []
    started = time.perf_counter()
    made = journeys(seed)
    while stored < n_events:
        case = next(made)
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


def raw_cursor(url, query, params=()):
    conn = psycopg2.connect(url)
    started = time.perf_counter()
    count = 0
    with conn:
        with conn.cursor(name="replay_baseline") as cur:
            cur.itersize = 10_000
            cur.execute(query, params)
            for _row in cur:
                count += 1
    elapsed = time.perf_counter() - started
    conn.close()
    return count, elapsed


def baseline(url):
    return raw_cursor(
        url,
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM cases_events ORDER BY notification_id",
    )


def baseline_same_columns(url, app):
    return raw_cursor(
        url,
        "SELECT originator_id::text, originator_version, topic, "
        "CASE WHEN topic = ANY(%s) THEN state END FROM cases_events ORDER BY notification_id",
        (_state_topics(app),),
    )


def vacuum(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE cases_events")
    conn.close()


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


def same_statistics(one, other):
    """Every figure the report shows, and each case's numbers under the same key in the same order."""

    def figures(stats):
        return (
            stats.events,
            stats.unknown_case_events,
            list(stats.cases),
            [tuple(getattr(case, a) for a in case.__slots__) for case in stats.cases.values()],
            stats.groups(),
            stats.by_month(),
            stats.acceptance_hours("urgency"),
            stats.acceptance_hours("rubric"),
        )

    return figures(one) == figures(other)


def one_round(url, app, order):
    """(events, wall s, this process's CPU s) of each run of a round, in ``order``; and the
    statistics of (c) and (b)."""
    rates, stats, cpu = {}, {}, {}
    for label in order:
        cpu_started = time.process_time()
        if label == "a":
            count, elapsed = baseline(url)
        elif label == "a2":
            count, elapsed = baseline_same_columns(url, app)
        elif label == "c":
            stats["c"], elapsed = timed(lambda: fold_statistics(app))
            count = stats["c"].events
        else:
            stats["b"], elapsed = timed(lambda: Statistics().add_all(iter_events(app)))
            count = stats["b"].events
        rates[label] = (count, elapsed)
        cpu[label] = time.process_time() - cpu_started
    return rates, stats, cpu


def profile_fast(app, path):
    from pyinstrument import Profiler

    profiler = Profiler()
    profiler.start()
    fold_statistics(app)
    profiler.stop()
    with open(path, "w") as out:
        out.write(profiler.output_html())
    print(profiler.output_text(unicode=False, color=False))


LABELS = {
    "a": "(a)  raw named cursor SELECT, all columns",
    "a2": "(a2) raw named cursor, the columns (c) reads",
    "c": "(c)  report path: one cursor, fold decodes few",
    "b": "(b)  generic: pages + mapper + fold",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events to generate (default 200,000)")
    parser.add_argument("--runs", type=int, default=3, help="rounds of measurements; medians (default 3)")
    parser.add_argument("--split", action="store_true", help="also time (b1) pages alone, (b2) pages + mapper")
    parser.add_argument("--profile", metavar="FILE.html", help="profile one extra (c) with pyinstrument")
    parser.add_argument("--no-record", action="store_true", help="do not append a line to bench/RESULTS.md")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    admin, url = fresh_database(args.postgres, BENCH_DB, f"N = {args.events} events")
    try:
        stored, cases, gen_elapsed = generate(url, args.events)
        print(
            f"generated {stored} events of {cases} cases in {gen_elapsed:.1f} s "
            f"({stored / gen_elapsed:.0f} events/s saved)",
            flush=True,
        )
        vacuum(url)  # hint bits set and statistics fresh, so that the first run pays no more than others
        app = open_store(url)
        rounds, cpus, identical = [], [], True
        try:
            order = ["a", "a2", "c", "b"]
            for number in range(args.runs):
                rates, stats, cpu = one_round(url, app, order)
                identical = identical and same_statistics(stats["c"], stats["b"])
                rounds.append(rates)
                cpus.append(cpu)
                print(
                    f"round {number + 1} (load average {os.getloadavg()[0]:.1f}): "
                    + ", ".join(f"{label} {count / elapsed:,.0f}/s" for label, (count, elapsed) in rates.items()),
                    flush=True,
                )
                order = order[1:] + order[:1]
            if args.split:
                count_b1, elapsed_b1 = timed(lambda: pages_only(app))
                count_b2, elapsed_b2 = timed(lambda: sum(1 for _ in iter_events(app)))
            if args.profile:
                profile_fast(app, args.profile)
        finally:
            app.close()
        load_after = os.getloadavg()[0]
        median = {label: statistics.median(r[label][1] for r in rounds) for label in LABELS}
        count = {label: rounds[0][label][0] for label in LABELS}
        rate = {label: count[label] / median[label] for label in LABELS}
        print()
        cpu = {label: statistics.median(c[label] for c in cpus) for label in LABELS}
        for label, text in LABELS.items():
            print(
                f"{text:48s} {count[label]:8d} events  {median[label]:7.2f} s  {rate[label]:9,.0f} events/s  "
                f"(client CPU {cpu[label]:.2f} s)"
            )
        if args.split:
            print(
                f"{'(b1) select_notifications pages only':48s} {count_b1:8d} events  {elapsed_b1:7.2f} s  "
                f"{count_b1 / elapsed_b1:9,.0f} events/s"
            )
            print(
                f"{'(b2) pages + mapper.to_domain_event':48s} {count_b2:8d} events  {elapsed_b2:7.2f} s  "
                f"{count_b2 / elapsed_b2:9,.0f} events/s"
            )
        ratio, ratio_b = rate["c"] / rate["a"], rate["b"] / rate["a"]
        met = "met" if ratio >= TARGET_RATIO else "NOT met"
        print()
        print(f"median of {args.runs} rounds; (c) and (b) fold to the same statistics: {identical}")
        print(
            f"ratio (c)/(a): {ratio:.2f} (target >= {TARGET_RATIO}: {met}); (c)/(a2): {rate['c'] / rate['a2']:.2f}; "
            f"(b)/(a): {ratio_b:.2f}; (c) is {rate['c'] / rate['b']:.1f}x (b)"
        )
        if not args.no_record:
            append_result(
                "bench_replay",
                f"{count['c']} events of {cases} cases, median of {args.runs} rounds",
                f"report path (one cursor, decodes few): {rate['c']:,.0f} events/s (target >= 0.5x: {met}); "
                f"generic pages + mapper: {rate['b']:,.0f} events/s; same statistics: {identical}",
                f"raw named cursor SELECT, all columns {rate['a']:,.0f} rows/s; same columns as the report path "
                f"{rate['a2']:,.0f} rows/s",
                f"{ratio:.2f} (vs same columns {rate['c'] / rate['a2']:.2f}; generic {ratio_b:.2f})",
                machine(args.postgres, (load_before, load_after)),
            )
    finally:
        recreate(admin, BENCH_DB, drop_only=True)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
