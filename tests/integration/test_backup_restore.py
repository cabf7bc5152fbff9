"""`mentor-backup dump` / `restore` (operations/backup.py) of the five services' databases on a live
journey: the restored databases run the services again, which publish their logs anew; nothing is
handled twice, and the research rebuilds agree with what was restored."""

import io
import os
import subprocess
import uuid

import psycopg2
import pytest
from kombu import Connection

from contracts.topology import SUBSCRIPTIONS_BY_QUEUE, consumer_queue, parking_queue
from operations import backup
from services.cases.service import CasesService
from services.identity.service import IdentityService
from services.library.service import LibraryService
from services.matching.service import MatchingService
from services.notifications.service import NotificationsService
from tests.integration.live_journey import NOTIFICATIONS_QUEUES, completed_journey
from tests.support import eventually, run_research

SERVICES = backup.SERVICES  # all five: identity, cases, matching, notifications, library
SERVICE_CLASSES = {
    "identity": IdentityService,
    "cases": CasesService,
    "matching": MatchingService,
    "notifications": NotificationsService,
    "library": LibraryService,
}
RESTORED_QUEUES = ("matching.case-events", "cases.matching-events", "library.case-events") + NOTIFICATIONS_QUEUES
# consumers first (their queues exist when a relay publishes again), identity's relay before matching's
# rebuild reads it; e-mail rounds off (the journey's people are not identity's accounts)
START_ORDER = ("notifications", "matching", "library", "identity", "cases")


@pytest.fixture(scope="module")
def journey(start_module_service, test_env):
    for urls in completed_journey(start_module_service, test_env, "backup", with_notifications=True):
        eventually(
            lambda: (
                figures(urls["notifications"]).get("inbox", 0) > 0
                and set(waiting_messages(test_env.amqp_uri, NOTIFICATIONS_QUEUES).values()) == {0}
            ),
            timeout=60,
            message="notifications took the journey's events",
        )
        yield urls


@pytest.fixture(scope="module")
def dumped(journey, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("backup") / "nightly")
    code, printed, errors = run_backup("dump", "--out", out, *urls(journey))
    assert code == 0, errors
    assert f"backup written to {out}" in printed
    return out


@pytest.fixture
def vhost(test_env):
    """A broker vhost of its own: the restored services must not share queues with the journey's."""
    name = f"mentor-test-restore-{uuid.uuid4().hex[:8]}"
    for args in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)
    yield test_env.amqp_uri.rsplit("/", 1)[0] + "/" + name
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)


def urls(journey, prefix=None):
    """--url options naming the journey's databases, or with ``prefix``, fresh ones of that name."""
    named = {s: journey["test_env"].database_url(f"{prefix}_{s}") if prefix else journey[s] for s in SERVICES}
    return [option for s in SERVICES for option in ("--url", f"{s}={named[s]}")]


def run_backup(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = backup.main(list(argv), stdout=out, environ={}, stderr=err)
    return code, out.getvalue(), err.getvalue()


def figures(url):
    """What must be the same after a restore and a new publication of every log."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('processed_events') IS NOT NULL")
        counts = {}
        if cur.fetchone()[0]:
            cur.execute("SELECT consumer, count(*) FROM processed_events GROUP BY consumer ORDER BY consumer")
            counts["processed"] = cur.fetchall()
        tables = ("library_entries", "forum_posts", "publication_drafts", "proposals", "assignments", "inbox", "outbox")
        for table in tables:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
            if cur.fetchone()[0]:
                cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a name of the list above
                counts[table] = cur.fetchone()[0]
    conn.close()
    return counts


def relay_positions(url):
    """Where each relay of the database stands (none in notifications', which publishes nothing)."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('relay_position') IS NOT NULL")
        rows = []
        if cur.fetchone()[0]:
            cur.execute(
                "SELECT relay, position FROM relay_position WHERE relay = ANY(%s) ORDER BY relay",
                (list(backup.SERVICES),),
            )
            rows = cur.fetchall()
    conn.close()
    return rows


def waiting_messages(amqp_uri, queues=RESTORED_QUEUES):
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        waiting = {}
        for name in queues:
            subscription = SUBSCRIPTIONS_BY_QUEUE[name]
            for queue in (consumer_queue(subscription), parking_queue(subscription)):
                bound = queue(channel)
                bound.declare()
                waiting[queue.name] = bound.queue_declare(passive=True).message_count
        return waiting


def test_restored_databases_run_again_and_nothing_is_handled_twice(journey, dumped, vhost, start_service):
    before = {s: figures(journey[s]) for s in SERVICES}
    published = {s: relay_positions(journey[s]) for s in SERVICES}
    assert all(position > 0 for rows in published.values() for _, position in rows)
    code, printed, errors = run_backup("restore", "--from", dumped, *urls(journey, "restored"))
    assert code == 0, errors
    assert "cases: restored; relays set back to the start: cases" in printed
    restored = {s: journey["test_env"].database_url(f"restored_{s}") for s in SERVICES}
    assert {s: figures(restored[s]) for s in SERVICES} == before
    assert all(position == 0 for s in SERVICES for _, position in relay_positions(restored[s]))

    for service in START_ORDER:
        settings = {"EMAIL_POLL_INTERVAL": 3600} if service == "notifications" else {}
        start_service(SERVICE_CLASSES[service], DATABASE_URL=restored[service], AMQP_URI=vhost, **settings)
    eventually(
        lambda: {s: relay_positions(restored[s]) for s in SERVICES} == published,
        timeout=60,
        message="every relay published its whole log again",
    )
    eventually(
        lambda: set(waiting_messages(vhost).values()) == {0},
        timeout=60,
        message="the consumers took every event published again",
    )
    assert {s: figures(restored[s]) for s in SERVICES} == before  # each skipped, nothing handled twice

    code, out = run_research(
        "verify", "library", "--live-url", journey["library"], "--rebuilt-url", restored["library"]
    )
    assert code == 0, out
    rebuilt = journey["test_env"].database_url("restored_rebuilt_library")
    code, out = run_research(
        "rebuild",
        "library",
        "--cases-url",
        restored["cases"],
        "--library-url",
        restored["library"],
        "--into-url",
        rebuilt,
    )
    assert code == 0, out
    code, out = run_research("verify", "library", "--live-url", restored["library"], "--rebuilt-url", rebuilt)
    assert code == 0 and "live and rebuilt are equal" in out, out
    rebuilt = journey["test_env"].database_url("restored_rebuilt_matching")
    code, out = run_research(
        "rebuild",
        "matching",
        "--identity-url",
        journey["identity"],
        "--cases-url",
        restored["cases"],
        "--matching-url",
        restored["matching"],
        "--into-url",
        rebuilt,
    )
    assert code == 0, out
    code, out = run_research("verify", "matching", "--live-url", restored["matching"], "--rebuilt-url", rebuilt)
    assert code == 0 and "live and rebuilt are equal" in out, out


def test_a_restore_refuses_a_database_that_holds_anything(journey, dumped):
    code, _, errors = run_backup("restore", "--from", dumped, "--url", f"library={journey['library']}")
    assert code == 2 and "is not empty: restore into a fresh database" in errors
    assert figures(journey["library"])["library_entries"] == 1


def test_a_dump_refuses_a_directory_holding_a_backup(journey, dumped):
    code, _, errors = run_backup("dump", "--out", dumped, *urls(journey))
    assert code == 2 and "already holds a backup" in errors


def test_a_restore_refuses_a_dump_that_is_not_the_one_the_manifest_names(journey, dumped, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in os.listdir(dumped):
        (copy / name).write_bytes((open(os.path.join(dumped, name), "rb")).read())
    with open(copy / "cases.dump", "ab") as stream:
        stream.write(b"\0")
    target = journey["test_env"].database_url("restored_tampered_cases")
    code, _, errors = run_backup("restore", "--from", str(copy), "--url", f"cases={target}")
    assert code == 2 and "cases.dump: missing or not the file the manifest names" in errors


def test_without_a_database_named_it_says_how_to_name_one():
    code, _, errors = run_backup("dump", "--out", "/nonexistent/never")
    assert code == 2 and "give --url SERVICE=URL or set <SERVICE>_DATABASE_URL" in errors
    code, _, errors = run_backup("dump", "--out", "/nonexistent/never", "--url", "gateway=postgresql://x/y")
    assert code == 2 and "--url 'gateway=postgresql://x/y'" in errors
