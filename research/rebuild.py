"""``mentor-research rebuild`` / ``verify``: rebuild a read model from the source logs, compare it.

rebuild library  replays the whole cases log (page by page), maps each event as the live relay
                 does (``integration_payload``, same event ids, same envelope validation) and
                 feeds CaseCompleted / CasePublishedToForum to the library's own projection
                 (services/library/projection.py) in a fresh database: drafts, as live; then the
                 library's own log, its outbox's PublicationDecided events in order (a moderator's
                 publication with the text as published, rejections, withdrawals, automatic
                 publications), through the same ``apply_decision``: only what was published is;
                 then the library's journal of curation (``library_moderation``, in order: a
                 moderator's edits, added materials, withdrawals; services/library/curation.py).
rebuild matching the mentors read model from identity's outbox (MentorProfileUpdated, in order, v1
                 upcast as the live consumer does), who works on which case (assignments, load,
                 response times, case rubrics) by feeding the cases log to matching's own
                 read-model code (services/matching/readmodel.py), and every round from matching's
                 own outbox (MentorsMatched: its decisions are replayed, not re-ranked), with each
                 round's rubrics from the cases log.
verify library   compares a live library with a rebuilt one, ignoring what cannot match: times
                 (published_at, created_at, updated_at) and library entry ids (random uuid4 in
                 older live libraries), so entries are compared by content, as a multiset.
                 Curation is replayed from the library's journal; a material added before the
                 journal kept its content shows as only in the live library. Withdrawals and hidden
                 posts are not compared, nor what people wrote in the forum
                 (services/library/curation.py).
"""

import json
from collections import Counter

from research.cli import PAGE_SIZE, CliError, open_store

LIBRARY_TABLES = {
    # table: (key columns or None for a multiset of rows, compared columns)
    "library_entries": (
        None,
        (
            "kind",
            "rubrics",
            "urgency",
            "essence",
            "actions_taken",
            "difficulty",
            "question",
            "participants",
            "solutions",
            "clarifications",
            "problem_solved",
        ),
    ),
    "forum_threads": (("id",), ("id", "title", "rubrics")),
    "forum_posts": (("id",), ("id", "thread_id", "essence", "question", "rubrics", "urgency")),
    "library_materials": (
        ("id",),
        ("id", "material_type", "title", "description", "url", "reference", "rubrics", "entry_id", "origin"),
    ),
}
MATCHING_TABLES = {
    "mentors": (
        ("mentor_id",),
        ("mentor_id", "rubrics", "accepting_cases", "accredited", "capacity", "away_periods", "source_position"),
    ),
    "proposals": (("case_id", "round"), ("case_id", "round", "rubrics", "proposals")),
    "cases": (("case_id",), ("case_id", "rubrics", "rubrics_position", "released_position")),
    "assignments": (
        ("case_id", "mentor_id"),
        (
            "case_id",
            "mentor_id",
            "round",
            "chosen_at",
            "chosen_position",
            "outcome",
            "outcome_at",
            "outcome_position",
            "response_seconds",
            "open",
        ),
    ),
    "mentor_stats": (("mentor_id",), ("mentor_id", "open_cases", "responses", "median_response_seconds")),
}
ROUND_EVENTS = {"CaseCreated", "MentorDeclined", "SecondOpinionRequested", "CaseEscalated", "MentorReleased"}
TABLES = {"library": LIBRARY_TABLES, "matching": MATCHING_TABLES}
ENTRY_LABEL = ("id", "question")  # how a library entry is named in a difference


# ---- reading the cases log as the relay publishes it ----------------------------------------


def case_envelopes(app, wanted_types, page_size=PAGE_SIZE):
    """Envelopes of the wanted integration types, in log order, as the relay would build them
    (same event id, position, payload validated by the event's contract)."""
    from contracts.envelope import read_envelope
    from contracts.events import dump_payload
    from services.cases.integration import case_envelope
    from services.cases.outgoing import integration_payload

    for page in app.log_pages(page_size):
        envelopes = []
        for notification, domain_event in zip(page, app.mapper.to_domain_events(page)):
            case = app.get_case_at(domain_event.originator_id, domain_event.originator_version)
            mapped = integration_payload(domain_event, case)
            if mapped is None or mapped[0] not in wanted_types:
                continue
            event_type, payload = mapped
            version, data = dump_payload(event_type, payload)
            message = case_envelope(domain_event, notification.id, event_type, version, data).to_message()
            envelopes.append(read_envelope(json.loads(json.dumps(message))))  # as a consumer reads it
        yield envelopes


# ---- rebuild --------------------------------------------------------------------------------


def _open_target(url, service, tables):
    """A fresh database brought to the head of ``service``'s schema history; refuses one that already
    holds rows."""
    import psycopg2

    from services.common import migrations
    from services.common.db import PostgresStore

    try:
        migrations.apply(url, migrations.history_directory(service))
        store = PostgresStore(url, 1)
        used = []
        with store.transaction() as cur:
            for table in ("processed_events", *tables):
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table}) AS used")
                if cur.fetchone()["used"]:
                    used.append(table)
        if used:
            store.close()
            raise CliError(f"--into-url: {', '.join(used)} not empty; rebuild into a fresh database")
    except psycopg2.Error as error:
        raise CliError(f"cannot prepare the target database: {error}".strip(), code=1) from None
    return store


def rebuild_library(cases_url, library_url, into_url, out):
    from services.library import curation, projection

    app = open_store(cases_url)
    store = None
    try:
        store = _open_target(into_url, "library", (*LIBRARY_TABLES, "publication_drafts"))
        counts = Counter()
        for envelopes in case_envelopes(app, projection.HANDLED_TYPES):
            with store.transaction() as cur:  # one transaction per page of the log
                for envelope in envelopes:
                    projection.apply(cur, envelope)
                    counts[envelope.type] += 1
        with store.transaction() as cur:
            for envelope in outbox_envelopes(library_url, projection.DECISION_TYPE):
                projection.apply_decision(cur, envelope.payload)
                counts[envelope.payload["decision"]] += 1
        with store.transaction() as cur:
            for act in _rows_in_order(library_url, "SELECT * FROM library_moderation ORDER BY id", (), "curation"):
                counts["curated" if curation.replay(cur, act) else "not replayed"] += 1
    finally:
        app.close()
        if store is not None:
            store.close()
    out.write(
        f"rebuilt library from {counts['CaseCompleted']} CaseCompleted and "
        f"{counts['CasePublishedToForum']} CasePublishedToForum events and the library's decisions "
        f"({counts['published']} published, {counts['rejected']} rejected, {counts['withdrawn']} withdrawn) "
        f"and its curation ({counts['curated']} acts replayed"
        + (f", {counts['not replayed']} not reproducible" if counts["not replayed"] else "")
        + ")\n"
    )
    return 0


def outbox_envelopes(url, event_type, page_size=PAGE_SIZE):
    """A service's outbox read in order with a server-side cursor: constant memory."""
    from contracts.envelope import read_envelope

    query = "SELECT position, envelope FROM outbox WHERE envelope->>'type' = %s ORDER BY position"
    for row in _rows_in_order(url, query, (event_type,), f"{event_type}'s source", page_size):
        yield read_envelope({**row["envelope"], "position": row["position"]})


def _rows_in_order(url, query, params, what, page_size=PAGE_SIZE):
    """The rows of ``query`` (dicts) read with a server-side cursor: constant memory."""
    import psycopg2
    from psycopg2.extras import RealDictCursor

    try:
        conn = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.Error as error:
        raise CliError(f"cannot connect to {what}: {error}".strip(), code=1) from None
    try:
        with conn.cursor(name="ordered_reader", cursor_factory=RealDictCursor) as cur:
            cur.itersize = page_size
            cur.execute(query, params)
            yield from cur
    finally:
        conn.close()


def rebuild_matching(identity_url, cases_url, matching_url, into_url, out):
    from services.matching import readmodel

    app = open_store(cases_url)
    store = None
    mentors = rounds = case_events = 0
    try:
        store = _open_target(into_url, "matching", MATCHING_TABLES)
        rubrics = {}  # (case, round) -> the rubrics that round was ranked on
        for envelopes in case_envelopes(app, set(readmodel.CASE_EVENT_TYPES)):
            with store.transaction() as cur:  # one transaction per page of the log
                for e in envelopes:
                    readmodel.apply_case_event(cur, e)
                    case_events += 1
                    if e.type in ROUND_EVENTS:
                        round_ = 1 if e.type == "CaseCreated" else e.payload["next_round"]
                        rubrics.setdefault((e.payload["case_id"], round_), e.payload["rubrics"])
        with store.transaction() as cur:
            for envelope in outbox_envelopes(identity_url, "MentorProfileUpdated"):
                readmodel.upsert_mentor(cur, envelope.payload, envelope.position, envelope.schema_version)
                mentors += 1
            for envelope in outbox_envelopes(matching_url, "MentorsMatched"):
                p = envelope.payload
                key = (p["case_id"], p["round"])
                if key not in rubrics:
                    raise CliError(f"round {p['round']} of case {p['case_id']} is not in the cases log", code=1)
                readmodel.record_round(
                    cur, p["case_id"], p["round"], rubrics[key], p["proposals"], at=envelope.occurred_at
                )
                rounds += 1
    finally:
        app.close()
        if store is not None:
            store.close()
    out.write(
        f"rebuilt matching from {mentors} MentorProfileUpdated and {rounds} MentorsMatched events "
        f"and {case_events} case events\n"
    )
    return 0


def run_rebuild(args, stdout):
    if args.model == "library":
        return rebuild_library(args.cases_url, args.library_url, args.into_url, stdout)
    return rebuild_matching(args.identity_url, args.cases_url, args.matching_url, args.into_url, stdout)


# ---- verify ---------------------------------------------------------------------------------


def _normal(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value) if value is not None else None


def _read_table(conn, table, columns, extra=()):
    from psycopg2.extras import RealDictCursor

    with conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(f"SELECT {', '.join(dict.fromkeys((*extra, *columns)))} FROM {table}")
        return [{k: _normal(v) for k, v in row.items()} for row in cur.fetchall()]


def compare_tables(live, rebuilt, tables):
    """Differences (text lines) between two databases over the given tables."""
    differences = []
    for table, (key, columns) in tables.items():
        if key is None:  # no stable id: a multiset of rows by content
            live_rows = _read_table(live, table, columns, extra=ENTRY_LABEL[:1])
            rebuilt_rows = _read_table(rebuilt, table, columns)
            content = lambda row: tuple(row[c] for c in columns)  # noqa: E731, B023 - used at once, in this iteration
            missing = Counter(content(r) for r in rebuilt_rows)
            missing.subtract(Counter(content(r) for r in live_rows))
            surplus = Counter(content(r) for r in live_rows)
            surplus.subtract(Counter(content(r) for r in rebuilt_rows))
            for row in live_rows:
                if surplus[content(row)] > 0:
                    surplus[content(row)] -= 1
                    differences.append(
                        f"{table}: only in live: id={row['id']} "
                        f"{json.dumps({c: row[c] for c in columns}, ensure_ascii=False)}"
                    )
            for values, n in missing.items():
                for _ in range(n):
                    differences.append(
                        f"{table}: only in rebuilt: {json.dumps(dict(zip(columns, values)), ensure_ascii=False)}"
                    )
            continue
        live_rows = {tuple(r[k] for k in key): r for r in _read_table(live, table, columns)}
        rebuilt_rows = {tuple(r[k] for k in key): r for r in _read_table(rebuilt, table, columns)}
        for k in sorted(live_rows.keys() | rebuilt_rows.keys()):
            name = ", ".join(f"{c}={v}" for c, v in zip(key, k))
            a, b = live_rows.get(k), rebuilt_rows.get(k)
            if b is None:
                differences.append(f"{table}: only in live: {name}")
            elif a is None:
                differences.append(f"{table}: only in rebuilt: {name}")
            else:
                for c in columns:
                    if a[c] != b[c]:
                        differences.append(f"{table}: {name}: {c} differs: live={a[c]!r} rebuilt={b[c]!r}")
    return differences


def run_verify(args, stdout):
    import psycopg2

    connections = []
    try:
        for option, url in (("--live-url", args.live_url), ("--rebuilt-url", args.rebuilt_url)):
            try:
                connections.append(psycopg2.connect(url, connect_timeout=5))
            except psycopg2.Error as error:
                raise CliError(f"{option}: cannot connect: {error}".strip(), code=2) from None
        try:
            differences = compare_tables(*connections, TABLES[args.model])
        except psycopg2.Error as error:
            raise CliError(f"cannot read the {args.model} tables: {error}".strip(), code=2) from None
    finally:
        for conn in connections:
            conn.close()
    for line in differences:
        stdout.write(line + "\n")
    stdout.write(
        f"{args.model}: {len(differences)} difference(s)\n"
        if differences
        else f"{args.model}: live and rebuilt are equal\n"
    )
    return 1 if differences else 0


# ---- the command line (called from research/cli.py's build_parser) ---------------------------


def add_commands(commands):
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild a read model from the source event logs",
        description="Rebuild a service's read model into a fresh database (created if missing) by "
        "replaying the source logs through the service's own projection code.",
    )
    models = rebuild.add_subparsers(dest="model", required=True)
    library = models.add_parser(
        "library",
        help="library entries and the forum, from the cases log and the library's own log of review decisions",
    )
    library.add_argument("--cases-url", required=True, help="the cases service's PostgreSQL URL (read only)")
    library.add_argument(
        "--library-url",
        required=True,
        help="the live library database URL: its outbox, the log of its decisions (read only)",
    )
    library.add_argument("--into-url", required=True, help="the PostgreSQL URL of the database to fill")
    matching = models.add_parser(
        "matching",
        help="mentors, assignments and proposal rounds, from identity's and matching's outboxes and the cases log",
    )
    matching.add_argument("--identity-url", required=True, help="the identity database URL (its outbox)")
    matching.add_argument("--cases-url", required=True, help="the cases database URL (each round's rubrics)")
    matching.add_argument("--matching-url", required=True, help="the live matching database URL (its outbox)")
    matching.add_argument("--into-url", required=True, help="the PostgreSQL URL of the database to fill")
    rebuild.set_defaults(run=run_rebuild)

    verify = commands.add_parser(
        "verify",
        help="compare a live read model with a rebuilt one (exit 1 on any difference)",
        description="Compare a live read model with a rebuilt one, ignoring timestamps and random ids; "
        "print each difference; exit 1 if any, 0 when equal.",
    )
    vmodels = verify.add_subparsers(dest="model", required=True)
    vlib = vmodels.add_parser("library", help="library_entries, library_materials, forum_threads, forum_posts")
    vlib.add_argument("--live-url", required=True, help="the live library database URL")
    vlib.add_argument("--rebuilt-url", required=True, help="the rebuilt library database URL")
    vmatch = vmodels.add_parser("matching", help="mentors, proposals, cases, assignments, mentor_stats")
    vmatch.add_argument("--live-url", required=True, help="the live matching database URL")
    vmatch.add_argument("--rebuilt-url", required=True, help="the rebuilt matching database URL")
    verify.set_defaults(run=run_verify)
