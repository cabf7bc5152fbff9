"""The cases application: the only way to change a Case, and the source of its event log."""

import os
import uuid
from urllib.parse import unquote, urlsplit

import psycopg2
from eventsourcing.application import AggregateNotFound
from eventsourcing.persistence import IntegrityError, OperationalError

from contracts.errors import Conflict, NotFound, ServiceUnavailable
from services.cases import sealing
from services.cases.domain import Case
from services.cases.outgoing import check_and_stamp
from services.common import shredding
from services.common.library_internals.eventsourcing_application import FastSaveApplication, stamp
from services.common.logs import current_correlation_id

EVENT_ID_NAMESPACE = uuid.UUID("6f1c2d4e-8a0b-4c7e-9f31-2b5d7e9a1c40")


RECORDERS = {  # CASES_RECORDER: how events are committed (bench/RESULTS.md has the figures)
    # concurrent commands share a commit
    "group_commit": "services.common.library_internals.eventsourcing_group_commit:Factory",
    "stock": "eventsourcing.postgres",  # eventsourcing's recorder: one table-locked commit each
}
DEFAULT_RECORDER = "group_commit"
STORE_FAILED = "The case store could not commit the change; reload the case and retry."


def persistence_module(recorder=None):
    name = recorder or os.environ.get("CASES_RECORDER") or DEFAULT_RECORDER
    if name not in RECORDERS:
        raise ValueError(f"CASES_RECORDER must be one of {', '.join(sorted(RECORDERS))}, not {name!r}")
    return RECORDERS[name]


def postgres_env(database_url, pool_size=10, recorder=None):
    """eventsourcing 9.2 reads its PostgreSQL settings from environment-style keys."""
    parts = urlsplit(database_url)
    return {
        "PERSISTENCE_MODULE": persistence_module(recorder),
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_PRE_PING": "y",
    }


def open_application(database_url, pool_size=10, master_key=None):
    """Construct the application (which creates its tables) under an advisory lock: several
    in one process or in several processes must not create the same table at once. ``master_key``:
    the service's PERSON_KEYS_MASTER_KEY (None: CASES_PERSON_KEYS_MASTER_KEY from the environment, else
    the development key)."""
    conn = psycopg2.connect(database_url, connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext('cases-event-store'))")
        env = postgres_env(database_url, pool_size)
        if master_key:
            env[f"CASES_{sealing.MASTER_KEY_SETTING}"] = master_key
        return CasesApplication(env=env)
    finally:
        conn.close()  # closing the session releases the lock


def case_id_for(author_id, request_id):
    """A request retried (or redelivered after a crash) maps to the same case."""
    if not request_id:
        return uuid.uuid4()
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"case:{author_id}:{request_id}")


def event_id(originator_id, version):
    """Stable across re-publication: consumers deduplicate on it."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"cases:{originator_id}:{version}")


class CasesApplication(FastSaveApplication):
    """Saves Cases without eventsourcing's run-time Protocol checks (services/common/library_internals/
    eventsourcing_application.py; ``CASES_SAVE=stock`` saves the stock way).

    The texts persons write are stored sealed with their writer's key (services/cases/sealing.py):
    ``before_record`` seals the events about to be stored, ``after_read`` opens every page of events
    read back (one query for the keys of a page's writers, on the event store's own pool; no cache of
    keys outlives the page, so an erasure is seen by the next read of every replica). The keys live in
    this database's ``person_keys`` under PERSON_KEYS_MASTER_KEY (``CASES_PERSON_KEYS_MASTER_KEY``)."""

    name = "cases"
    fast_save_types = (Case,)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        master_key = self.env.get(sealing.MASTER_KEY_SETTING) or sealing.DEVELOPMENT_MASTER_KEY
        self.vault = sealing.vault(master_key)
        self.person_keys = self.vault.keys
        self.sealing_keys = shredding.SealingKeys(self.person_keys)  # writers' keys kept once read (sealing only)
        # an in-memory store (some tests) has no database for the persons' keys: its texts stay plain
        self.seals = hasattr(self.recorder, "datastore")
        if self.seals and self.env.get("CREATE_TABLE", "y").lower() not in ("n", "no", "f", "false", "off", "0"):
            with self._key_cursor(commit=True) as cur:  # the migration's table, for a store made without one
                cur.execute(shredding.PERSON_KEYS)

    def _key_cursor(self, commit=False):
        """A cursor on the event store's own pool, for the persons' keys (same database)."""
        return self.recorder.datastore.transaction(commit=commit)

    def create_case(self, case_id, number, author_id, form):
        """File a case; the same request (same case_id) filed again returns the first case."""
        case = Case.file(case_id, number, author_id, form)
        try:
            self.save(case)
        except IntegrityError:
            existing = self.get_case(case_id)
            if existing.author_id != author_id:
                raise Conflict("This request key was already used.") from None
            return existing
        except OperationalError as exc:  # the database failed (e.g. a group commit batch as a whole)
            raise ServiceUnavailable(STORE_FAILED) from exc
        return case

    def log_pages(self, page_size=1000):
        """The stored events' notifications in log order, a page (a list) at a time, up to the last one
        stored when the reading began: the one paging loop of every reader of the whole log (the
        researchers' export and rebuilds), so a log growing while it is read ends where it began."""
        stop = self.recorder.max_notification_id() or 0
        start = 1
        while start <= stop:
            page = self.recorder.select_notifications(start, page_size, stop=stop)
            if not page:
                break
            yield page
            start = page[-1].id + 1

    def get_case(self, case_id):
        try:
            return self.repository.get(_as_uuid(case_id))
        except AggregateNotFound:
            raise NotFound(f"No case {case_id}.") from None

    def get_case_at(self, case_id, version):
        return self.repository.get(_as_uuid(case_id), version=version)

    def get_case_as_of(self, case_id, version=None, at=None):
        """The case as it was at a version, or at a moment (folding the events up to it)."""
        events = self.history(case_id)
        if version is not None:
            events = [e for e in events if e.originator_version <= version]
        if at is not None:
            events = [e for e in events if e.timestamp <= at]
        if not events:
            raise NotFound(f"Case {case_id} did not exist yet at that point.")
        case = None
        for domain_event in events:
            case = domain_event.mutate(case)
        return case

    def change(self, case_id, command):
        """Load, run ``command(case)``, save; a concurrent change makes this one lose with 409."""
        case = self.get_case(case_id)
        result = command(case)
        try:
            self.save(case)
        except IntegrityError:
            raise Conflict(
                "The case was changed by someone else meanwhile; reload and retry.",
                details={"state": self._saved_state(case_id)},
            ) from None
        except OperationalError as exc:
            raise ServiceUnavailable(STORE_FAILED) from exc
        return case, result

    def _saved_state(self, case_id):
        """The state the winner saved (not this loser's own computed one); None if unreadable now."""
        try:
            return self.get_case(case_id).state
        except Exception:  # the conflict is the answer; its details are best effort
            return None

    def history(self, case_id):
        case_uuid = _as_uuid(case_id)
        events = list(self.repository.event_store.get(case_uuid))
        if not events:
            raise NotFound(f"No case {case_id}.")
        return events

    def before_record(self, processing_event):
        # Before anything is stored: every new event's integration payload against its contract
        # (outgoing.py; ContractBroken fails the command), stamped when the relay may publish it as
        # it is. Then the request's correlation id on every new event (persisted with its state),
        # so the relay can carry it on the integration envelope.
        check_and_stamp(processing_event.events, processing_event.aggregates, self.get_case_at)
        cid = current_correlation_id()
        for domain_event in processing_event.events:
            stamp(domain_event, "correlation_id", cid)
        self.seal_texts(processing_event.events, processing_event.aggregates)

    def seal_texts(self, domain_events, aggregates):
        """Replace the persons' texts of events about to be stored by their sealed values (after the
        contract check above, which reads the plaintext): the keys of the batch's writers, read once per
        process (``shredding.SealingKeys``; made on first use; an erased writer's texts are stored as
        ``[erased]``). The events'
        attributes are replaced by new objects, so the aggregates keep their plaintext."""
        writers = {}
        for domain_event in domain_events if self.seals else ():
            kind = sealing.kind_of(domain_event)
            if kind in sealing.SEALED:
                author = (
                    self._author_of(domain_event, aggregates) if sealing.SEALED[kind][0] == sealing.AUTHOR else None
                )
                writer = sealing.writer_of(kind, domain_event.__dict__, author)
                if sealing.is_person(writer):
                    writers[id(domain_event)] = str(writer)
        if not writers:
            return
        keys = self.sealing_keys.for_writers(lambda: self._key_cursor(commit=True), writers.values())
        for domain_event in domain_events:
            writer = writers.get(id(domain_event))
            if writer is None:
                continue
            seal_text = sealing.sealer(keys[str(uuid.UUID(writer))], writer)
            for name, value in sealing.map_texts(
                sealing.kind_of(domain_event), domain_event.__dict__, seal_text
            ).items():
                stamp(domain_event, name, value)

    def _author_of(self, domain_event, aggregates):
        case = aggregates.get(domain_event.originator_id)
        if case is None:  # bare events, saved without their case
            if isinstance(domain_event, Case.Created):
                return domain_event.author_id
            case = self.get_case(domain_event.originator_id)
        return case.author_id

    def after_read(self, domain_events):
        """Open the sealed texts of a page of events read back: one query for all their writers' keys;
        an erased writer's texts read ``[erased]``, plaintext (events stored before sealing) as it is."""
        sealed = []
        for domain_event in domain_events if self.seals else ():
            kind = sealing.kind_of(domain_event)
            if kind in sealing.SEALED:
                texts = sealing.texts_of(kind, domain_event.__dict__)
                if any(shredding.is_sealed(t) for t in texts):
                    sealed.append((domain_event, kind, texts))
        if not sealed:
            return
        with self._key_cursor() as cur:
            key_of = self.person_keys.lookup(cur, [t for _, _, texts in sealed for t in texts])
        open_text = sealing.opener(key_of)
        for domain_event, kind, _ in sealed:
            for name, value in sealing.map_texts(kind, domain_event.__dict__, open_text).items():
                stamp(domain_event, name, value)


def _as_uuid(value):
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No case {value}.") from None
