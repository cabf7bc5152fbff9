"""How many e-mails a second reach a local SMTP catcher? Prints figures; the target (issue #20): the
notifications sender's path at least 200 e-mails/s, beside a raw smtplib loop in the same run.

    .venv/bin/python bench/bench_email.py [--emails 2000] [--runs 3] [--no-record]
                                          [--postgres postgresql://postgres@127.0.0.1:5432]

The catcher is aiosmtpd in its own process with its Sink handler (it takes every message and keeps
none: the disk is not measured). ``--runs`` rounds, the order rotated, medians printed:

(a)  baseline: a raw smtplib loop, one connection, ``send_message`` of each message as the sender builds
     it (``email.build_message``, about 2 ms of CPU here): the ceiling of this machine, catcher and
     smtplib without the outbox;
(a0) the same with a connection per message (``services.common.mail.send``): how the senders sent
     until issue #20, the outbox aside;
(b)  the sender's path now: ``email_outbox`` rows in a scratch PostgreSQL database (notifications'
     own migrations), claimed batch after batch (``email.claim_due``), each message built
     (``email.build_message``) and handed to one ``mail.Mailer``, each batch's rows marked sent in
     one transaction, as ``NotificationsService.send_emails`` does. The recipient's contact is a fixed
     one: identity's ``contact_for`` RPC, which the service asks per row, is not part of this figure.

Appends the medians to bench/RESULTS.md unless ``--no-record`` (bench/README.md).
"""

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from services.common import migrations  # noqa: E402
from services.common.db import PostgresStore  # noqa: E402
from services.common.mail import Mailer, SmtpSettings, send  # noqa: E402
from services.notifications import email  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import append_result, machine  # noqa: E402
from scratch import add_postgres_argument, fresh_database, recreate  # noqa: E402  (bench/scratch.py)

DBNAME = "mentor_bench_email"
TARGET = 200.0  # e-mails per second, the sender's path
CONTACT = {"email": "reader@school.example.org", "display_name": "Elena Petrova"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_catcher():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"aiosmtpd did not start: {process.stderr.read().decode(errors='replace')}") from None
            time.sleep(0.05)


def rows(n):
    """Outbox-like rows: each path builds its messages from them, in the timing (as the sender does)."""
    now = datetime.now(timezone.utc)
    return [
        {
            "id": str(uuid.uuid4()),
            "kind": "mentor_chosen",
            "created_at": now,
            "text": f"You were chosen as the mentor of case MC-2026-{i:06d}: please accept or decline.",
        }
        for i in range(n)
    ]


def raw_loop(settings, n):
    """(a) the same messages, built and sent by smtplib on one connection: no database, no Mailer."""
    prepared = rows(n)
    started = time.perf_counter()
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        for row in prepared:
            smtp.send_message(email.build_message(row, CONTACT, settings))
    return time.perf_counter() - started


def connection_per_message(settings, n):
    """(a0) the transport until issue #20: a connection per message (no database either)."""
    prepared = rows(n)
    started = time.perf_counter()
    for row in prepared:
        send(email.build_message(row, CONTACT, settings), settings)
    return time.perf_counter() - started


def fill_outbox(store, n):
    with store.transaction() as cur:
        cur.execute("TRUNCATE email_outbox")
        cur.execute(
            "INSERT INTO email_outbox (source_event_id, recipient, kind, text) "
            "SELECT gen_random_uuid(), 'bench-recipient', 'mentor_chosen', "
            "'You were chosen as the mentor of case MC-2026-' || lpad(i::text, 6, '0') || "
            "': please accept or decline.' FROM generate_series(1, %s) AS i",
            (n,),
        )


def sender_path(store, settings, n):
    """(b) the outbox drained as NotificationsService.send_emails drains it (contacts aside)."""
    fill_outbox(store, n)
    sent = 0
    started = time.perf_counter()
    with Mailer(settings) as mailer:
        while True:
            with store.transaction() as cur:
                rows = email.claim_due(cur)
            if not rows:
                break
            for row in rows:
                mailer.send(email.build_message(row, CONTACT, settings))
            with store.transaction() as cur:
                email.mark_sent(cur, [row["id"] for row in rows])
            sent += len(rows)
    elapsed = time.perf_counter() - started
    assert sent == n, f"sent {sent} of {n}"
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    add_postgres_argument(parser)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    admin, url = fresh_database(args.postgres, DBNAME, "the notifications outbox")
    catcher, port = start_catcher()
    migrations.apply(url, migrations.history_directory("notifications"))
    store = PostgresStore(url, max_connections=2)
    try:
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="noreply@mentor.test")
        paths = {
            "a": lambda: raw_loop(settings, args.emails),
            "a0": lambda: connection_per_message(settings, args.emails),
            "b": lambda: sender_path(store, settings, args.emails),
        }
        rates = {key: [] for key in paths}
        order = list(paths)
        for run in range(args.runs):
            for key in order[run % len(order) :] + order[: run % len(order)]:
                rates[key].append(args.emails / paths[key]())
        median = {key: statistics.median(values) for key, values in rates.items()}
        labels = {
            "a": "raw smtplib loop, one connection (baseline)",
            "a0": "a connection per message (before)",
            "b": "the sender's path now: outbox + one Mailer",
        }
        for key in ("a", "a0", "b"):
            print(
                f"({key:>2}) {labels[key]:<46} {median[key]:8.0f} e-mails/s  "
                f"({', '.join(f'{r:.0f}' for r in rates[key])})"
            )
        met = median["b"] >= TARGET
        print(
            f"target: the sender's path >= {TARGET:.0f} e-mails/s: {'met' if met else 'NOT met'} "
            f"({median['b']:.0f}; {median['b'] / median['a']:.2f} of the raw loop, "
            f"{median['b'] / median['a0']:.1f}x a connection per message)"
        )
        if not args.no_record:
            text = machine(args.postgres + "/postgres", (load_before, os.getloadavg()[0]))
            workload = f"{args.emails} e-mails to a local aiosmtpd Sink, median of {args.runs}"
            append_result(
                "email: sender's path (outbox + one Mailer)",
                workload,
                f"{median['b']:.0f}/s (target >= {TARGET:.0f}/s: {'met' if met else 'NOT met'})",
                f"raw smtplib loop {median['a']:.0f}/s",
                f"{median['b'] / median['a']:.2f}",
                text,
            )
            append_result(
                "email: a connection per message (before #20)",
                workload,
                f"{median['a0']:.0f}/s",
                f"raw smtplib loop {median['a']:.0f}/s",
                f"{median['a0'] / median['a']:.2f}",
                text,
            )
        return 0 if met else 1
    finally:
        store.close()
        catcher.terminate()
        catcher.wait(timeout=10)
        recreate(admin, DBNAME, drop_only=True)


if __name__ == "__main__":
    sys.exit(main())
