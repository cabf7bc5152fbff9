"""A scratch database for a benchmark: created fresh, dropped at the end."""

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql


def server_url(url, dbname):
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


def recreate(admin_url, dbname, drop_only=False):
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        if not drop_only:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    conn.close()


def add_postgres_argument(parser):
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
        help="server URL without a database (needs CREATE DATABASE); default $BENCH_POSTGRES_URL or the local server",
    )


def fresh_database(server, dbname, what):
    """Drop and create ``dbname``; returns (admin URL, its URL) after saying where it is."""
    admin, url = server_url(server, "postgres"), server_url(server, dbname)
    print(f"database {dbname} on {urlsplit(url).hostname}:{urlsplit(url).port or 5432}, {what}", flush=True)
    recreate(admin, dbname)
    return admin, url
