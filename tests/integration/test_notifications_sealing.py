"""Direct messages and the calendar's texts are sealed at rest in notifications (issue 19, part 3, stage 2):
the real gateway, identity and notifications on the real broker and databases. A mentor writes a message
and announces events; every text or JSON column of every table of notifications' database is searched
for those texts and holds none; the API reads them back; after the mentor's erasure (identity's
PersonErased on the broker) the recipient reads "[erased]", their own reply stays readable, and the
database still holds none of the texts."""

import uuid
from datetime import timedelta

import psycopg2
import pytest
from psycopg2.extras import RealDictCursor

from services.common.shredding import ERASED, SEALED_PREFIX
from services.notifications import sealing
from tests.integration import at_rest
from tests.integration.event_helpers import envelope, publish_all
from tests.integration.test_communication_http import iso, online, person, start_communication
from tests.support import eventually


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    return start_communication(start_module_service, LEGACY_SEAL_INTERVAL=0.5)


def found_in_database(db, needles):
    return at_rest.found_in_database(
        db("notifications"), needles, {("direct_messages", "text"), ("calendar_events", "title")}
    )


def erase(test_env, person_id):
    """Identity's PersonErased, as its relay publishes it after a moderator's erasure."""
    publish_all(test_env.amqp_uri, [envelope("PersonErased", person_id, {"person_id": person_id}, source="identity")])


def test_messages_and_events_are_sealed_with_their_writers_key_and_read_erased_after_erasure(api, db, test_env):
    (writer, t_writer), (reader, t_reader) = person(api, "mentor"), person(api, "mentor")
    tag = uuid.uuid4().hex[:8]  # this test's texts, found nowhere else in the session's database
    message = f"Pupil Petrov {tag} struggles with fractions; his mother asked me to call."
    reply = f"Call her after the lesson {tag}, then tell me."
    title, description = f"Seminar on fractions {tag}", f"We discuss the Petrov case {tag}."
    place, moved_place = f"School 57 room 12 {tag}", f"School 57 hall {tag}"
    link, reason = f"https://meet.example.org/{tag}", f"I fell ill {tag}."
    texts = (message, reply, title, description, place, moved_place, link, reason)

    sent = api.call(
        "POST", "/api/v1/messages", token=t_writer, expect=201, json={"recipient_id": reader, "text": message}
    )
    assert sent["text"] == message
    api.call("POST", "/api/v1/messages", token=t_reader, expect=201, json={"recipient_id": writer, "text": reply})

    offline = api.call(
        "POST",
        "/api/v1/calendar",
        token=t_writer,
        expect=201,
        json=online(title=title, description=description, format="offline", link=None, place=place),
    )
    assert (offline["title"], offline["description"], offline["place"]) == (title, description, place)
    api.call("PUT", f"/api/v1/calendar/{offline['id']}/attendance", token=t_reader)
    moved = api.call(
        "PATCH",
        f"/api/v1/calendar/{offline['id']}",
        token=t_writer,
        json={"place": moved_place, "starts_at": iso(timedelta(days=3)), "ends_at": None},
    )
    assert moved["place"] == moved_place
    remote = api.call("POST", "/api/v1/calendar", token=t_writer, expect=201, json=online(title=title, link=link))
    api.call("PUT", f"/api/v1/calendar/{remote['id']}/attendance", token=t_reader)
    cancelled = api.call(
        "POST", f"/api/v1/calendar/{remote['id']}/cancellation", token=t_writer, json={"reason": reason}
    )
    assert (cancelled["link"], cancelled["cancel_reason"]) == (link, reason)

    # at rest: none of the texts anywhere, the message's text sealed for its sender
    assert found_in_database(db, texts) == {}
    with db("notifications").cursor() as cur:
        cur.execute("SELECT text FROM direct_messages WHERE id = %s", (sent["id"],))
        assert cur.fetchone()[0].startswith(f"{SEALED_PREFIX}{writer}:")

    # the API opens them: the thread, the conversations, the events, the inbox names no text
    thread = api.call("GET", f"/api/v1/messages/{writer}", token=t_reader)["items"]
    assert [m["text"] for m in thread] == [reply, message]
    [conversation] = api.call("GET", "/api/v1/messages", token=t_reader)["items"]
    assert conversation["last_message"]["text"] == reply
    shown = api.call("GET", f"/api/v1/calendar/{offline['id']}", token=t_reader)
    assert (shown["title"], shown["description"], shown["place"]) == (title, description, moved_place)
    inbox = api.call("GET", "/api/v1/inbox", token=t_reader)["items"]
    assert {e["kind"] for e in inbox} == {"direct_message", "calendar_event_changed", "calendar_event_cancelled"}
    assert not [e for e in inbox if any(t in e["text"] for t in texts)]

    erase(test_env, writer)

    def erased_thread():
        items = api.call("GET", f"/api/v1/messages/{writer}", token=t_reader)["items"]
        return items if items[-1]["text"] == ERASED else None

    thread = eventually(erased_thread, message="the erased sender's message reads [erased]")
    assert [m["text"] for m in thread] == [reply, ERASED]  # the reader's own reply is theirs: still readable
    assert api.call("GET", "/api/v1/messages", token=t_reader)["items"][0]["last_message"]["text"] == reply
    shown = api.call("GET", f"/api/v1/calendar/{offline['id']}", token=t_reader)
    assert (shown["title"], shown["description"], shown["place"]) == (ERASED, ERASED, ERASED)
    listed = {
        e["id"]: e
        for e in api.call("GET", "/api/v1/calendar?include_cancelled=true&limit=200", token=t_reader)["items"]
    }
    assert (listed[remote["id"]]["title"], listed[remote["id"]]["link"], listed[remote["id"]]["cancel_reason"]) == (
        ERASED,
        ERASED,
        ERASED,
    )
    assert found_in_database(db, texts) == {}


def test_the_records_of_a_recipient_open_the_messages_they_hold_and_an_erased_senders_read_erased(api, rpc, test_env):
    (writer, t_writer), (reader, _) = person(api, "mentor"), person(api, "mentor")
    message = f"About the Petrov family {uuid.uuid4().hex[:8]}"
    api.call("POST", "/api/v1/messages", token=t_writer, expect=201, json={"recipient_id": reader, "text": message})
    actor = {"user_id": reader, "role": "mentor"}
    [record] = rpc.notifications.records_of(actor)["direct_messages"]
    assert (record["sender_id"], record["text"]) == (writer, message)

    erase(test_env, writer)
    eventually(
        lambda: rpc.notifications.records_of(actor)["direct_messages"][0]["text"] == ERASED,
        message="the erased sender's message reads [erased] in the recipient's records",
    )


def _legacy_rows(conn, writer, reader, tag):
    """A direct message and a cancelled calendar event of ``writer`` stored in plaintext on ``conn`` (a
    connection to notifications' database; committed by the caller unless it commits each statement), as
    notifications wrote them before sealing: (their texts, the message's id, the event's id)."""
    message, title, reason = f"Legacy note on Sidorov {tag}", f"Legacy seminar {tag}", f"Legacy reason {tag}"
    message_id, event_id = uuid.uuid4(), uuid.uuid4()
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO direct_messages (id, sender_id, recipient_id, text) VALUES (%s, %s, %s, %s)",
            (str(message_id), writer, reader, message),
        )
        cur.execute(
            "INSERT INTO calendar_events (id, author_id, title, description, format, starts_at, place, status, "
            "cancel_reason, cancelled_at) VALUES (%s, %s, %s, %s, 'offline', now() + interval '2 days', %s, "
            "'cancelled', %s, now())",
            (str(event_id), writer, title, f"Legacy description {tag}", f"Legacy room {tag}", reason),
        )
    return (message, title, f"Legacy description {tag}", f"Legacy room {tag}", reason), message_id, event_id


def test_rows_written_before_sealing_are_sealed_by_the_data_pass_and_still_read(api, db, test_env):
    (writer, _), (reader, t_reader) = person(api, "mentor"), person(api, "mentor")
    conn = psycopg2.connect(test_env.database_url("notifications"))
    try:
        texts, message_id, event_id = _legacy_rows(conn, writer, reader, uuid.uuid4().hex[:8])
        # the control, before the rows are committed (the data pass, every 0.5 s, cannot see them yet): the
        # search finds the plaintext where it is
        assert set(at_rest.found_in_database(conn, texts)) == set(texts)
        conn.commit()
    finally:
        conn.close()

    eventually(lambda: found_in_database(db, texts) == {}, timeout=30, message="the data pass sealed the rows")
    with db("notifications").cursor() as cur:
        cur.execute("SELECT text FROM direct_messages WHERE id = %s", (str(message_id),))
        assert cur.fetchone()[0].startswith(f"{SEALED_PREFIX}{writer}:")
        cur.execute("SELECT title, cancel_reason FROM calendar_events WHERE id = %s", (str(event_id),))
        assert all(value.startswith(f"{SEALED_PREFIX}{writer}:") for value in cur.fetchone())
    thread = api.call("GET", f"/api/v1/messages/{writer}", token=t_reader)["items"]
    assert [m["text"] for m in thread] == [texts[0]]
    listed = {
        e["id"]: e
        for e in api.call("GET", "/api/v1/calendar?include_cancelled=true&limit=200", token=t_reader)["items"]
    }
    assert (listed[str(event_id)]["title"], listed[str(event_id)]["cancel_reason"]) == (texts[1], texts[4])


def test_an_erasure_seals_and_shreds_what_the_data_pass_has_not_reached_yet(db):
    """The key alone could not erase a plaintext: the erasure seals the person's rows first."""
    writer, reader = str(uuid.uuid4()), str(uuid.uuid4())
    texts, message_id, _ = _legacy_rows(db("notifications"), writer, reader, uuid.uuid4().hex[:8])
    vault = sealing.vault(sealing.DEVELOPMENT_MASTER_KEY)
    with db("notifications").cursor(cursor_factory=RealDictCursor) as cur:
        sealing.erase(cur, vault, writer)
        sealing.erase(cur, vault, writer)  # a redelivered PersonErased: nothing more to do, no error
        cur.execute("SELECT * FROM direct_messages WHERE id = %s", (str(message_id),))
        assert vault.open_row(cur, cur.fetchone())["text"] == ERASED
    assert found_in_database(db, texts) == {}


def test_the_data_pass_leaves_what_was_stored_for_an_erased_writer_and_has_nothing_left_to_do(db):
    """A write for a person already erased stores ``[erased]`` (no key is made for them again): not a
    plaintext, so the pass neither counts nor seals it, and does not find it again at every tick."""
    writer = str(uuid.uuid4())
    with db("notifications").cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(
            "INSERT INTO direct_messages (id, sender_id, recipient_id, text) VALUES (%s, %s, %s, %s)",
            (str(uuid.uuid4()), writer, str(uuid.uuid4()), ERASED),
        )
        assert sealing.seal_legacy_rows(cur, sealing.vault(sealing.DEVELOPMENT_MASTER_KEY), person_id=writer) == 0
