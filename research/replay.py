"""The fast replay of the cases log into ``research.analytics.Statistics`` (``mentor-research report``).

The generic path (``research.cli.iter_events``) reads ``select_notifications`` pages of 1,000 rows,
builds a ``Notification`` per row and maps every row to a domain event; the fold then reads only
the kind of most of them. This path gives the fold the same events, in the same order, for less:

- one server-side (named) cursor over the events table in ``notification_id`` order, up to the
  last notification id when the replay began, in one read-only REPEATABLE READ transaction (one
  snapshot for the whole replay, instead of a ``LIMIT`` query per page);
- the case id as text (psycopg2 builds no ``uuid.UUID`` per row; the statistics' case keys are
  turned into UUIDs once per case at the end, as the generic path has them);
- the kind from the topic string (resolved once per distinct topic, the class name as
  ``type(event).__name__``): only events of ``Statistics.FIELD_KINDS`` are decoded, by the
  application's own mapper (so cipher, compressor, transcodings and upcasters apply as always;
  the persons' sealed texts are left sealed: the fold reads none, and asks for no key);
  the others reach the fold as ``(kind, case)`` only;
- the server sends ``state`` only for the topics known to carry those kinds (the Case's own event
  classes); a row whose kind needs its state but whose topic was not on that list (an alias, a
  renamed class) has it fetched by its key, so the result never depends on the list.

Where the store is not eventsourcing's PostgreSQL recorder (e.g. an in-memory one in a test), the
generic path is used. ``tests/integration/test_research_replay.py`` checks that both fold to the
same statistics over a real log; bench/bench_replay.py measures both beside a raw cursor SELECT.
"""

import uuid

from research.analytics import Statistics

ITERSIZE = 10_000  # rows per round trip of the server-side cursor


def fold_statistics(app, itersize=ITERSIZE):
    """``Statistics`` of the whole cases log of ``app`` (a ``CasesApplication``), fast when it can."""
    pool = _postgres_pool(app)
    if pool is None:
        from research.cli import iter_events

        return Statistics().add_all(iter_events(app))
    import psycopg2

    conn = psycopg2.connect(
        dbname=pool.dbname,
        host=pool.host,
        port=pool.port,
        user=pool.user,
        password=pool.password,
        connect_timeout=getattr(pool, "connect_timeout", 5),
    )
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn:
            return _fold(app, conn, app.recorder.events_table_name, itersize)
    finally:
        conn.close()


def _postgres_pool(app):
    """The connection settings of eventsourcing's PostgreSQL datastore, or None for another store."""
    pool = getattr(getattr(app.recorder, "datastore", None), "pool", None)
    if pool is None or not all(hasattr(pool, a) for a in ("dbname", "host", "port", "user", "password")):
        return None
    if not hasattr(app.recorder, "events_table_name"):
        return None
    return pool


def _state_topics(app):
    """Topics of the aggregate's event classes whose kind the fold reads the fields of."""
    from eventsourcing.utils import get_topic

    from services.cases.domain import Case

    topics = []
    for kind in sorted(Statistics.FIELD_KINDS):
        cls = getattr(Case, kind, None)
        if isinstance(cls, type):
            topics.append(get_topic(cls))
    return topics


def _fold(app, conn, table, itersize):
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.utils import resolve_topic

    stats = Statistics()
    field_kinds = Statistics.FIELD_KINDS
    add_kind = stats.add_kind
    # the fold reads no text: the events as stored, their sealed texts left sealed (no key query)
    to_domain_event = getattr(app.mapper, "to_unfinished_domain_event", app.mapper.to_domain_event)
    kinds = {}  # topic -> kind (the event class's name)

    with conn.cursor() as cur:
        cur.execute(f"SELECT MAX(notification_id) FROM {table}")
        stop = cur.fetchone()[0] or 0
    lookup = conn.cursor()  # for a state the server did not send (see the module's docstring)
    with conn.cursor(name="research_replay") as cur:
        cur.itersize = itersize
        cur.execute(
            f"SELECT originator_id::text, originator_version, topic, "
            f"CASE WHEN topic = ANY(%s) THEN state END "
            f"FROM {table} WHERE notification_id <= %s ORDER BY notification_id",
            (_state_topics(app), stop),
        )
        for case_id, version, topic, state in cur:
            kind = kinds.get(topic)
            if kind is None:
                kind = kinds[topic] = resolve_topic(topic).__name__
            if kind in field_kinds:
                if state is None:
                    lookup.execute(
                        f"SELECT state FROM {table} WHERE originator_id = %s AND originator_version = %s",
                        (case_id, version),
                    )
                    state = lookup.fetchone()[0]
                add_kind(
                    kind,
                    case_id,
                    to_domain_event(
                        StoredEvent(originator_id=case_id, originator_version=version, topic=topic, state=bytes(state))
                    ),
                )
            else:
                add_kind(kind, case_id, None)
    lookup.close()
    stats.cases = {uuid.UUID(case_id): case for case_id, case in stats.cases.items()}
    return stats
