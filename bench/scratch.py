"""A scratch database for a benchmark: created fresh, dropped at the end."""
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
