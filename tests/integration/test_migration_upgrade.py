"""The upgrade to the schema histories (issue 23): a database made the way the code before them made it
(PostgresStore.migrate of commit 2087f25: every statement run once at a start and recorded by its digest
in ``schema_statements``), holding data, is brought to the head by ``migrations apply``: cleanly, to the
schema a new database gets, with its data as it was; applying again changes nothing; and a service
started with MIGRATE_ON_START false refuses a database behind its history, naming the command, and
starts on it once it is upgraded."""

import hashlib
import shutil
import subprocess
import uuid
import zlib

import psycopg2
import pytest

from services.common import migrations
from services.common.db import ensure_database
from services.common.library_internals.yoyo_history import statements_of
from services.identity.service import IdentityService
from services.library.service import LibraryService

FIRST_STEP = "0001_schema_of_2026_12"  # the statements of the code before, in its order
OLD_RECORD = """
CREATE TABLE IF NOT EXISTS schema_statements (
    digest text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""
YOYO_TABLES = ("_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock")


def _old_digest(statement):
    return hashlib.sha256(" ".join(statement.split()).encode()).hexdigest()


def _run_the_old_way(url, statements):
    """What PostgresStore.migrate did with a service's statement list: each new one run and recorded."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(OLD_RECORD)
            for statement in statements:
                cur.execute("SELECT 1 FROM schema_statements WHERE digest = %s", (_old_digest(statement),))
                if cur.fetchone() is None:
                    cur.execute(statement)
                    cur.execute("INSERT INTO schema_statements (digest) VALUES (%s)", (_old_digest(statement),))
    finally:
        conn.close()


def _old_statements(service):
    return statements_of(migrations.history_directory(service) / f"{FIRST_STEP}.py")


def _dump(url, what):
    """pg_dump's text of the database's schema or data, yoyo's own tables left out."""
    excluded = [arg for table in YOYO_TABLES for arg in ("--exclude-table", table)]
    done = subprocess.run(
        ["pg_dump", f"--{what}-only", "--no-owner", "--no-privileges", *excluded, "--dbname", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    varying = ("-- Dumped", "\\restrict", "\\unrestrict")  # versions, and a random key per dump
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith(varying))


def _rows(data_dump):
    """A data dump without its sequences' positions: a data migration run again (identity's reads into the
    audit, INSERT ... ON CONFLICT DO NOTHING) draws ids it then does not use, a gap in the ids, no row."""
    return [line for line in data_dump.splitlines() if not line.startswith("SELECT pg_catalog.setval(")]


def _sequences(data_dump):
    """{sequence: its position} of a data dump, comparable as a whole: a >= b when no position went back."""
    positions = {}
    for line in data_dump.splitlines():
        if line.startswith("SELECT pg_catalog.setval("):
            name, position, _ = line[len("SELECT pg_catalog.setval(") :].split(", ")
            positions[name] = int(position)
    return _Positions(positions)


class _Positions(dict):
    def __ge__(self, other):
        return self.keys() == other.keys() and all(self[k] >= other[k] for k in self)


def _row_counts(url):
    """{table: its number of rows} of the database's public tables, yoyo's own left out."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        counts = {}
        for (table,) in cur.fetchall():
            if table not in YOYO_TABLES:
                cur.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - a name from the catalog
                counts[table] = cur.fetchone()[0]
    conn.close()
    return counts


def _without_old_record(schema_dump):
    """A schema dump without the ``schema_statements`` table (only a database the code before made has it)."""
    blocks = schema_dump.split("\n\n")
    return "\n\n".join(block for block in blocks if "schema_statements" not in block)


def _fill(url, service):
    """Rows a running platform leaves in the tables every service of its kind has."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('processed_events') IS NOT NULL, to_regclass('outbox') IS NOT NULL")
            consumes, publishes = cur.fetchone()
            if consumes:
                cur.execute(
                    "INSERT INTO processed_events (event_id, consumer) VALUES (%s, %s)", (uuid.uuid4(), service)
                )
            if publishes:
                cur.execute(
                    "INSERT INTO outbox (event_id, envelope) VALUES (%s, %s)", (uuid.uuid4(), '{"type": "Kept"}')
                )
            cur.execute(
                "INSERT INTO accepted_jtis (jti, expires_at) VALUES (%s, now() + interval '1 hour')",
                (uuid.uuid4().hex,),
            )
    finally:
        conn.close()


def _identity_made_by_the_code_before(url):
    """Identity's database as it came to be: a release that logged questionnaire reads (statements up to
    the audit's data migration), a read logged, then the releases that moved the reads into the audit."""
    statements = _old_statements("identity")
    moved = next(i for i, s in enumerate(statements) if "INSERT INTO access_audit" in s)
    _run_the_old_way(url, statements[:moved])
    author, reader = uuid.uuid4(), uuid.uuid4()
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:  # the accounts as that release wrote them
            for user_id, role in ((author, "mentee"), (reader, "mentor")):
                cur.execute(
                    "INSERT INTO users (id, email, password_hash, role, first_name, last_name) "
                    "VALUES (%s, %s, 'argon2-hash', %s, 'Анна', 'Смирнова')",
                    (user_id, f"{user_id}@example.org", role),
                )
            cur.execute(
                "INSERT INTO questionnaire_reads (author_id, reader_id, case_id) VALUES (%s, %s, 'c-1')",
                (author, reader),
            )
    finally:
        conn.close()
    _run_the_old_way(url, statements)
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:  # a moderator as the last release before the history wrote one
            cur.execute(
                "INSERT INTO users (id, email, password_hash, role, first_name, last_name, email_verified_at) "
                "VALUES (%s, %s, 'argon2-hash', 'moderator', 'Анна', 'Модератова', now())",
                (uuid.uuid4(), f"moderator.{uuid.uuid4().hex[:8]}@example.org"),
            )
    finally:
        conn.close()


def _person(name):
    return {
        "email": f"{name}.{uuid.uuid4().hex[:8]}@example.org",
        "password": "test-password-1",
        "first_name": "Анна",
        "last_name": name.title(),
    }


@pytest.fixture
def made_before(test_env, request):
    """made_before(service): the URL of a database of ``service`` made the code-before way, with data
    (one per test)."""

    def make(service):
        url = test_env.database_url(f"upgrade_{service}_{zlib.crc32(request.node.name.encode()):08x}")
        ensure_database(url)
        if service == "identity":
            _identity_made_by_the_code_before(url)
        else:
            _run_the_old_way(url, _old_statements(service))
        _fill(url, service)
        return url

    return make


def test_a_database_made_by_the_code_before_upgrades_cleanly_keeping_its_data(made_before, test_env, tmp_path):
    urls = {service: made_before(service) for service in migrations.SERVICES}
    for service, url in urls.items():
        directory = migrations.history_directory(service)
        steps = migrations.history(directory)
        schema, data = _dump(url, "schema"), _dump(url, "data")
        assert migrations.status(url, directory) == ([], steps)
        # the first step is the code before's statements: on its database it changes nothing
        first_only = tmp_path / service
        first_only.mkdir()
        shutil.copy(directory / f"{FIRST_STEP}.py", first_only)
        assert migrations.apply(url, first_only) == [FIRST_STEP], service
        assert _dump(url, "schema") == schema, f"{service}: the first step changed the schema of the code before"
        assert _rows(_dump(url, "data")) == _rows(data), f"{service}: the first step changed the data"
        assert _sequences(_dump(url, "data")) >= _sequences(data)  # never back: an id is never given twice
        # the steps after it (new tables and columns) keep every row
        counts = _row_counts(url)
        assert migrations.apply(url, directory) == steps[1:], service
        assert migrations.status(url, directory) == (steps, [])
        after = _row_counts(url)
        assert {t: n for t, n in after.items() if t in counts} == counts, f"{service}: the later steps lost rows"
        assert not any(n for t, n in after.items() if t not in counts), f"{service}: rows in the new tables"
        fresh = test_env.database_url(f"upgrade_fresh_{service}")  # this test's alone
        migrations.apply(fresh, directory)
        assert _without_old_record(_dump(fresh, "schema")) == _without_old_record(_dump(url, "schema")), (
            f"{service}: a new database and an upgraded one differ"
        )
    with psycopg2.connect(urls["identity"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM access_audit WHERE case_id = 'c-1' AND legacy_read_id IS NOT NULL")
        assert cur.fetchone()[0] == 1  # the read moved into the audit once, not again by the upgrade
    conn.close()


def test_applying_twice_changes_nothing(made_before):
    url, history = made_before("library"), migrations.history_directory("library")
    migrations.apply(url, history)
    schema, data = _dump(url, "schema"), _dump(url, "data")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM _yoyo_log")
        logged = cur.fetchone()[0]
    conn.close()
    assert migrations.apply(url, history) == []
    assert (_dump(url, "schema"), _dump(url, "data")) == (schema, data)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM _yoyo_log")
        assert cur.fetchone()[0] == logged  # nothing ran, so nothing was logged
    conn.close()


def test_a_service_refuses_a_database_behind_its_history_and_starts_once_it_is_upgraded(made_before, start_service):
    url = made_before("identity")
    with pytest.raises(migrations.DatabaseBehind) as refused:
        start_service(IdentityService, DATABASE_URL=url, MIGRATE_ON_START="false", RELAY_ENABLED="false")
    message = str(refused.value)
    assert FIRST_STEP in message and "python -m services.common.migrations apply identity" in message
    assert migrations.status(url, migrations.history_directory("identity"))[0] == []  # the refusal ran nothing
    migrations.apply(url, migrations.history_directory("identity"))
    # its outbox holds the test's rows, not events: not relayed
    container = start_service(IdentityService, DATABASE_URL=url, MIGRATE_ON_START="false", RELAY_ENABLED="false")
    assert container.service_name == "identity"


def test_a_service_refuses_a_new_empty_database_without_migrate_on_start(test_env, start_service):
    url = test_env.database_url("upgrade_empty_library")
    ensure_database(url)
    with pytest.raises(migrations.DatabaseBehind, match="apply library"):
        start_service(LibraryService, DATABASE_URL=url, MIGRATE_ON_START="false")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert cur.fetchone()[0] == 0  # refused before any DDL
    conn.close()


def test_the_command_applies_and_reports_each_named_service(test_env, monkeypatch, capsys):
    url = test_env.database_url("upgrade_cli_matching")
    ensure_database(url)
    monkeypatch.setenv("MATCHING_DATABASE_URL", url)
    assert migrations.main(["status", "matching"]) == 1  # behind: a deploy script can test for it
    assert migrations.main(["apply", "matching"]) == 0
    assert migrations.main(["status", "matching"]) == 0
    assert migrations.main(["apply", "matching"]) == 0
    out = capsys.readouterr().out
    assert f"matching: applied {FIRST_STEP}" in out and "matching: at the head, nothing to apply" in out
    every_step = ", ".join(migrations.history(migrations.history_directory("matching")))
    assert f"matching: applied {every_step}; pending nothing" in out
