"""``mentor-backup``: dump the services' databases together, restore them into fresh ones.

What a consistent backup needs here. Each service owns one database, and everything that must agree
within a service lives in it: its tables, its outbox and relay positions, and its consumers'
``processed_events``. ``pg_dump`` reads one database in one snapshot, so each service's dump is
consistent on its own. Across services no snapshot exists (they are separate databases), so the five
dumps are started together, in parallel, and their snapshots are milliseconds apart.

What a restore does about that gap. After restoring, every relay position is set back to the start
(``relay_position``): each service publishes its whole log again, and every consumer skips what its
restored ``processed_events`` already holds (they are kept for ever; every handler is idempotent).
So an event stored by one service before its snapshot, and not yet handled by another before the
other's, is handled after the restore instead of being lost, and nothing is handled twice. What
cannot come back is what happened after the snapshots; people may get again the e-mails of events
handled between the backup and the failure. The cost of publishing everything again grows with the
logs (a pilot year's: seconds).

Needs PostgreSQL's client programs (pg_dump, pg_restore) of the server's major version or newer.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

import psycopg2

SERVICES = ("identity", "cases", "matching", "notifications", "library")
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class BackupError(Exception):
    """A refusal or a failure, said to the operator (exit code 2)."""


# ---- the databases ------------------------------------------------------------------------------


def database_urls(pairs, environ):
    """The URL of each service's database: ``--url service=URL`` options first, then the
    ``<SERVICE>_DATABASE_URL`` variables the services themselves read (compose's .env names)."""
    urls = {}
    for pair in pairs or ():
        service, sep, url = pair.partition("=")
        if not sep or service not in SERVICES or not url:
            raise BackupError(f"--url {pair!r}: expected SERVICE=URL, SERVICE one of {', '.join(SERVICES)}")
        urls[service] = url
    for service in SERVICES:
        if service not in urls and environ.get(f"{service.upper()}_DATABASE_URL"):
            urls[service] = environ[f"{service.upper()}_DATABASE_URL"]
    if not urls:
        raise BackupError("no database named: give --url SERVICE=URL or set <SERVICE>_DATABASE_URL")
    return urls


def _program(name, pg_bin):
    path = os.path.join(pg_bin, name) if pg_bin else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise BackupError(
            f"{name} not found{' in ' + pg_bin if pg_bin else ' on PATH'}: install PostgreSQL's "
            f"client programs (Debian: postgresql-client-15) or give --pg-bin"
        )
    return path


def _run(argv):
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{os.path.basename(argv[0])} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _without_password(url):
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username + '@' if parts.username else ''}{host}{':' + str(parts.port) if parts.port else ''}"
    return urlunsplit(parts._replace(netloc=netloc))


# ---- dump ---------------------------------------------------------------------------------------


def dump(urls, out_dir, pg_bin=None):
    """Dump every database in ``urls`` into ``out_dir`` (created; must hold no earlier backup), the
    dumps started together; write the manifest last, so a directory with one is a whole backup."""
    pg_dump = _program("pg_dump", pg_bin)
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(out_dir, MANIFEST)):
        raise BackupError(f"{out_dir} already holds a backup ({MANIFEST}): give an empty directory")
    started = datetime.now(timezone.utc)

    def one(service):
        path = os.path.join(out_dir, f"{service}.dump")
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", "--file", path, urls[service]])
        return service, {
            "file": os.path.basename(path),
            "sha256": _sha256(path),
            "bytes": os.path.getsize(path),
            "source": _without_password(urls[service]),
        }

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(urls)) as pool:
        databases = dict(pool.map(one, sorted(urls)))
    manifest = {
        "format": FORMAT_VERSION,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "databases": databases,
    }
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2)
    return manifest


# ---- restore ------------------------------------------------------------------------------------


def read_manifest(in_dir):
    path = os.path.join(in_dir, MANIFEST)
    try:
        with open(path, encoding="utf-8") as stream:
            manifest = json.load(stream)
    except FileNotFoundError:
        raise BackupError(f"{in_dir} holds no {MANIFEST}: not a whole backup") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{path}: format {manifest.get('format')!r}, this tool reads {FORMAT_VERSION}")
    for entry in manifest["databases"].values():
        dump_path = os.path.join(in_dir, entry["file"])
        if not os.path.exists(dump_path) or _sha256(dump_path) != entry["sha256"]:
            raise BackupError(f"{dump_path}: missing or not the file the manifest names (sha256 differs)")
    return manifest


def _prepare_empty_database(url):
    """Create the database (UTF-8, from template0) or accept an existing one with no tables; refuse one
    holding anything, so a restore never mixes with live data."""
    from services.common.db import ensure_database

    ensure_database(url)
    conn = psycopg2.connect(url, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            tables = cur.fetchone()[0]
    finally:
        conn.close()
    if tables:
        raise BackupError(f"{_without_password(url)} is not empty: restore into a fresh database")


def restore(in_dir, urls, pg_bin=None):
    """Restore each service of the backup in ``in_dir`` that ``urls`` names into its (fresh) database,
    then set every relay back to the start of its log (see the module's docstring)."""
    pg_restore = _program("pg_restore", pg_bin)
    manifest = read_manifest(in_dir)
    missing = sorted(set(urls) - set(manifest["databases"]))
    if missing:
        raise BackupError(f"the backup holds no {', '.join(missing)} database")
    for service in sorted(urls):
        _prepare_empty_database(urls[service])
    rewound = {}
    for service in sorted(urls):
        path = os.path.join(in_dir, manifest["databases"][service]["file"])
        _run(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                urls[service],
                path,
            ]
        )
        rewound[service] = rewind_relays(urls[service])
    return rewound


def rewind_relays(url):
    """Set the database's event relays (those named after a service: the log it publishes) back to the
    start of their log; the relays set back. A service's local projections (cases' ``case-index``)
    were dumped in the same snapshot as their log and stay where they were."""
    conn = psycopg2.connect(url, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('relay_position') IS NOT NULL")
            if not cur.fetchone()[0]:
                return []
            cur.execute(
                "UPDATE relay_position SET position = 0, updated_at = now() WHERE relay = ANY(%s) RETURNING relay",
                (list(SERVICES),),
            )
            return sorted(row[0] for row in cur.fetchall())
    finally:
        conn.close()


# ---- the command line ---------------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mentor-backup",
        description="Back up the five service databases together and restore them (see README, Operators).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    url_help = (
        "SERVICE=URL of a service's database, repeatable; by default the <SERVICE>_DATABASE_URL "
        "variables (identity, cases, matching, notifications, library)"
    )
    dump_cmd = commands.add_parser("dump", help="dump every database into a directory, with a manifest")
    dump_cmd.add_argument("--out", required=True, help="a new or empty directory")
    dump_cmd.add_argument("--url", action="append", metavar="SERVICE=URL", help=url_help)
    dump_cmd.add_argument("--pg-bin", help="the directory of pg_dump/pg_restore (default: PATH)")
    restore_cmd = commands.add_parser("restore", help="restore a backup into fresh databases")
    restore_cmd.add_argument("--from", dest="source", required=True, help="a directory made by dump")
    restore_cmd.add_argument("--url", action="append", metavar="SERVICE=URL", help=url_help)
    restore_cmd.add_argument("--pg-bin", help="the directory of pg_dump/pg_restore (default: PATH)")
    return parser


def main(argv=None, stdout=None, environ=None, stderr=None):
    args = build_parser().parse_args(argv)
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        urls = database_urls(args.url, os.environ if environ is None else environ)
        if args.command == "dump":
            manifest = dump(urls, args.out, args.pg_bin)
            for service, entry in sorted(manifest["databases"].items()):
                stdout.write(f"{service}: {entry['file']} ({entry['bytes']} bytes)\n")
            stdout.write(f"backup written to {args.out} ({MANIFEST} last)\n")
        else:
            rewound = restore(args.source, urls, args.pg_bin)
            for service, relays in sorted(rewound.items()):
                stdout.write(f"{service}: restored; relays set back to the start: {', '.join(relays) or 'none'}\n")
            stdout.write("start the services: each publishes its log again, consumers skip what they had\n")
        return 0
    except BackupError as error:
        stderr.write(f"mentor-backup {args.command}: {error}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
