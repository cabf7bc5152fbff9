"""Every service checks its database's encoding at start and refuses one that is not UTF-8, naming the
setting: on a SQL_ASCII database (a cluster initialised under the C locale) every request carrying
Cyrillic text answered 500, long after the service had started."""

import psycopg2
import pytest
from psycopg2 import sql

from services.common import migrations
from services.common.db import DatabaseEncodingError, ensure_database
from services.library.service import LibraryService
from tests.support import write_history


def _create(test_env, name, encoding):
    url = test_env.database_url(name)  # dropped with the session's databases
    conn = psycopg2.connect(f"{test_env.postgres_base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE DATABASE {} ENCODING {} LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0").format(
                sql.Identifier(url.rsplit("/", 1)[1]), sql.Literal(encoding)
            )
        )
    conn.close()
    return url


def _tables(url):
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        return cur.fetchone()[0]


def test_a_service_refuses_to_start_on_a_sql_ascii_database(test_env, start_service):
    url = _create(test_env, "sql_ascii_library", "SQL_ASCII")
    with pytest.raises(DatabaseEncodingError) as refused:
        start_service(LibraryService, DATABASE_URL=url)
    assert "has ENCODING 'SQL_ASCII'" in str(refused.value) and "ENCODING 'UTF8'" in str(refused.value)
    assert _tables(url) == 0  # refused before any DDL


def test_the_schema_check_refuses_before_any_ddl(test_env, tmp_path):
    url = _create(test_env, "latin1_store", "LATIN1")
    history = write_history(tmp_path / "history", ["CREATE TABLE never_made (id int)"])
    with pytest.raises(DatabaseEncodingError, match="ENCODING 'LATIN1'"):
        migrations.apply(url, history)
    assert _tables(url) == 0  # not even the history's record


def test_a_database_the_service_creates_is_utf8(test_env, tmp_path):
    url = test_env.database_url("created_utf8")
    ensure_database(url)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()")
        assert cur.fetchone()[0] == "UTF8"
    migrations.apply(url, write_history(tmp_path / "history", ["CREATE TABLE IF NOT EXISTS made (name text)"]))
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM made")  # made, in the UTF-8 database
        assert cur.fetchall() == []
