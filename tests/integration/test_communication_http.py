"""Direct messages, the events calendar, inbox pages and e-mail preferences over real HTTP: the real
gateway, notifications and identity services on the real broker and databases."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from services.gateway.service import GatewayService
from services.identity.admin import create_moderator, open_store
from services.identity.service import IdentityService
from services.notifications.service import NotificationsService
from tests.support import eventually, free_port

PASSWORD = "correct horse battery"


class Api:
    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def call(self, method, path, token=None, expect=200, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.session.request(method, self.base + path, headers=headers, timeout=20, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


def start_communication(start_module_service, **notifications):
    """identity, notifications (``notifications``: its settings changed) and the gateway of a module: its
    Api. No SMTP server: e-mails stay queued (a module may search their texts); the sender looks rarely."""
    start_module_service(IdentityService)
    start_module_service(NotificationsService, SMTP_PORT=free_port(), EMAIL_POLL_INTERVAL=3600, **notifications)
    port = free_port()
    start_module_service(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    api = Api(f"http://127.0.0.1:{port}")
    eventually(lambda: api.session.get(f"{api.base}/health", timeout=2).status_code == 200, message="gateway up")
    return api


@pytest.fixture(scope="module")
def api(start_module_service, test_env):
    return start_communication(start_module_service)


def sign_in(api, email):
    return api.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})["access_token"]


def person(api, role):
    """(user id, token) of a new account of ``role`` (unverified: nothing here needs it)."""
    email = f"{role}.{uuid.uuid4().hex[:10]}@school.example.org"
    api.call(
        "POST",
        "/api/v1/auth/register",
        expect=202,
        json={"email": email, "password": PASSWORD, "role": role, "first_name": "Olga", "last_name": "Ivanova"},
    )
    signed = api.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
    return signed["user"]["id"], signed["access_token"]


@pytest.fixture(scope="module")
def moderator(api, test_env):
    store = open_store(test_env.database_url("identity"))
    email = f"moderator.{uuid.uuid4().hex[:10]}@platform.example.org"
    try:
        user = create_moderator(
            store, {"email": email, "password": PASSWORD, "first_name": "Maria", "last_name": "Moderova"}
        )
    finally:
        store.close()
    return user["id"], sign_in(api, email)


def errors(response_body):
    return response_body["error"]["fields"]


# ---- direct messages ---------------------------------------------------------------------------


def test_mentors_write_to_each_other_and_the_recipient_is_notified(api, moderator):
    (m1, t1), (m2, t2) = person(api, "mentor"), person(api, "mentor")
    sent = api.call(
        "POST",
        "/api/v1/messages",
        token=t1,
        expect=201,
        headers={"Idempotency-Key": "hello-1"},
        json={"recipient_id": m2, "text": "Could you look at my approach to case MC-1?"},
    )
    assert (sent["sender_id"], sent["recipient_id"], sent["read_at"]) == (m1, m2, None)
    again = api.call(
        "POST",
        "/api/v1/messages",
        token=t1,
        expect=201,
        headers={"Idempotency-Key": "hello-1"},
        json={"recipient_id": m2, "text": "Could you look at my approach to case MC-1?"},
    )
    assert again["id"] == sent["id"]  # a retried request is one message

    inbox = api.call("GET", "/api/v1/inbox", token=t2)
    [entry] = inbox["items"]
    assert (entry["kind"], entry["peer_id"], entry["audience"]) == ("direct_message", m1, "personal")
    assert entry["text"] == "A colleague sent you a direct message." and inbox["unread_count"] == 1
    [conversation] = api.call("GET", "/api/v1/messages", token=t2)["items"]
    assert (conversation["peer_id"], conversation["unread_count"]) == (m1, 1)
    assert conversation["last_message"]["id"] == sent["id"]

    thread = api.call("GET", f"/api/v1/messages/{m1}", token=t2)
    assert [m["id"] for m in thread["items"]] == [sent["id"]] and thread["next_before"] is None
    assert api.call("GET", "/api/v1/messages", token=t2)["items"][0]["unread_count"] == 0  # opening reads it
    assert api.call("GET", "/api/v1/inbox/unread-count", token=t2) == {"unread": 0}

    reply = api.call("POST", "/api/v1/messages", token=t2, expect=201, json={"recipient_id": m1, "text": "Sure."})
    page = api.call("GET", f"/api/v1/messages/{m2}?limit=1", token=t1)
    assert [m["id"] for m in page["items"]] == [reply["id"]] and page["next_before"] == reply["id"]
    older = api.call("GET", f"/api/v1/messages/{m2}?limit=1&before={page['next_before']}", token=t1)
    assert [m["id"] for m in older["items"]] == [sent["id"]] and older["next_before"] is None

    moderator_id, t_mod = moderator
    api.call("POST", "/api/v1/messages", token=t_mod, expect=201, json={"recipient_id": m1, "text": "Welcome!"})
    api.call("POST", "/api/v1/messages", token=t1, expect=201, json={"recipient_id": moderator_id, "text": "Thanks"})
    assert [c["peer_id"] for c in api.call("GET", "/api/v1/messages", token=t1)["items"]] == [moderator_id, m2]


def test_a_mentee_has_no_direct_messages_and_nobody_writes_to_one(api):
    (mentee, t_mentee), (mentor, t_mentor) = person(api, "mentee"), person(api, "mentor")
    refused = api.call(
        "POST", "/api/v1/messages", token=t_mentee, expect=403, json={"recipient_id": mentor, "text": "Hello"}
    )
    assert "personal-mode case" in refused["error"]["message"]
    api.call("GET", "/api/v1/messages", token=t_mentee, expect=403)
    api.call("GET", f"/api/v1/messages/{mentor}", token=t_mentee, expect=403)

    to_mentee = api.call(
        "POST", "/api/v1/messages", token=t_mentor, expect=403, json={"recipient_id": mentee, "text": "Hello"}
    )
    assert list(errors(to_mentee)) == ["recipient_id"]
    assert list(
        errors(
            api.call(
                "POST",
                "/api/v1/messages",
                token=t_mentor,
                expect=400,
                json={"recipient_id": str(uuid.uuid4()), "text": "Hello"},
            )
        )
    ) == ["recipient_id"]
    api.call("POST", "/api/v1/messages", token=t_mentor, expect=400, json={"recipient_id": mentor, "text": "Me"})
    assert list(
        errors(
            api.call(
                "POST", "/api/v1/messages", token=t_mentor, expect=400, json={"recipient_id": mentor, "text": "   "}
            )
        )
    ) == ["text"]
    assert api.call("GET", "/api/v1/messages", token=t_mentor)["items"] == []  # nothing was stored
    assert api.call("GET", "/api/v1/inbox", token=t_mentee)["items"] == []


# ---- the inbox and preferences -------------------------------------------------------------------


def test_the_inbox_pages_newest_first_and_marks_read_one_some_or_all(api):
    (_, t_sender), (reader, t_reader) = person(api, "mentor"), person(api, "mentor")
    for n in range(5):
        api.call("POST", "/api/v1/messages", token=t_sender, expect=201, json={"recipient_id": reader, "text": f"#{n}"})
    seen, before = [], None
    while True:
        page = api.call("GET", "/api/v1/inbox?limit=2" + (f"&before={before}" if before else ""), token=t_reader)
        assert len(page["items"]) <= 2 and page["unread_count"] == 5
        seen += page["items"]
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == 5 and len({e["id"] for e in seen}) == 5
    assert [e["created_at"] for e in seen] == sorted((e["created_at"] for e in seen), reverse=True)
    newest, _, third = seen[0], seen[1], seen[2]

    assert api.call("POST", f"/api/v1/inbox/{newest['id']}/read", token=t_reader)["read_at"]
    assert api.call("GET", "/api/v1/inbox/unread-count", token=t_reader) == {"unread": 4}
    assert [e["id"] for e in api.call("GET", "/api/v1/inbox?unread_only=true", token=t_reader)["items"]] == [
        e["id"] for e in seen[1:]
    ]
    assert api.call("POST", "/api/v1/inbox/read-all", token=t_reader, json={"up_to": third["id"]}) == {
        "marked": 3,
        "unread": 1,
    }
    assert api.call("POST", "/api/v1/inbox/read-all", token=t_reader, json={}) == {"marked": 1, "unread": 0}
    api.call("POST", f"/api/v1/inbox/{newest['id']}/read", token=t_sender, expect=404)  # not the sender's
    assert list(errors(api.call("GET", f"/api/v1/inbox?before={uuid.uuid4()}", token=t_reader, expect=400))) == [
        "before"
    ]


def test_email_preferences_default_on_and_change_per_kind(api):
    _, token = person(api, "mentor")
    defaults = api.call("GET", "/api/v1/me/notification-preferences", token=token)["items"]
    assert defaults and all(item["email"] for item in defaults)
    assert {"mentor_chosen", "direct_message", "case_flagged"} <= {item["kind"] for item in defaults}
    changed = api.call(
        "PUT",
        "/api/v1/me/notification-preferences",
        token=token,
        json={"email": {"direct_message": False, "mentor_chosen": True}},
    )["items"]
    assert {item["kind"] for item in changed if not item["email"]} == {"direct_message"}
    refused = api.call(
        "PUT",
        "/api/v1/me/notification-preferences",
        token=token,
        expect=400,
        json={"email": {"horoscope": False, "mentor_chosen": "maybe"}},
    )
    assert "email" in errors(refused)
    after = api.call("GET", "/api/v1/me/notification-preferences", token=token)["items"]
    assert {item["kind"] for item in after if not item["email"]} == {"direct_message"}  # unchanged by the refusal


# ---- the events calendar -------------------------------------------------------------------------


def iso(delta):
    return (datetime.now(timezone.utc) + delta).isoformat()


def online(**overrides):
    event = {
        "title": "Formative assessment in practice",
        "description": "An open seminar.",
        "format": "online",
        "starts_at": iso(timedelta(days=2)),
        "ends_at": iso(timedelta(days=2, hours=2)),
        "link": "https://meet.example.org/seminar",
        "rubrics": ["monitoring-evaluation"],
    }
    event.update(overrides)
    return event


def listed(api, token, query=""):
    return [e["id"] for e in api.call("GET", f"/api/v1/calendar{query}", token=token)["items"]]


def test_anyone_adds_valid_events_and_lists_them_by_date_range_and_rubric(api):
    (_, t_mentee), (_, t_mentor) = person(api, "mentee"), person(api, "mentor")
    before = listed(api, t_mentee, "?include_cancelled=true&limit=200")
    for bad, field in (
        (online(link=None), "link"),
        (online(link="ftp://files.example.org"), "link"),
        (online(starts_at=iso(-timedelta(hours=1)), ends_at=None), "starts_at"),
        (online(ends_at=iso(timedelta(days=1))), "ends_at"),
        (online(format="offline", link=None), "place"),
        (online(title=""), "title"),
        (online(starts_at="2030-01-01T10:00:00"), "starts_at"),
    ):
        assert field in errors(api.call("POST", "/api/v1/calendar", token=t_mentee, expect=400, json=bad)), field
    assert listed(api, t_mentee, "?include_cancelled=true&limit=200") == before  # nothing was added

    soon = api.call("POST", "/api/v1/calendar", token=t_mentee, expect=201, json=online())
    later = api.call(
        "POST",
        "/api/v1/calendar",
        token=t_mentor,
        expect=201,
        json=online(
            title="Burnout prevention",
            format="offline",
            link=None,
            place="MCU, 2nd Selskokhozyaistvenny pr. 4",
            starts_at=iso(timedelta(days=10)),
            ends_at=None,
            rubrics=["personal-resources", "self-management"],
        ),
    )
    assert (soon["status"], soon["attendees_count"], soon["attending"], soon["place"]) == ("scheduled", 0, False, None)
    assert later["format"] == "offline" and later["link"] is None and later["ends_at"] is None

    window = f"?from={iso(timedelta(days=1))}&to={iso(timedelta(days=5))}".replace("+", "%2B")
    ours = {soon["id"], later["id"]}
    assert [i for i in listed(api, t_mentor, window) if i in ours] == [soon["id"]]
    assert [i for i in listed(api, t_mentor, "?rubric=self-management") if i in ours] == [later["id"]]
    assert [i for i in listed(api, t_mentor) if i in ours] == [soon["id"], later["id"]]  # soonest first
    assert "rubric" in errors(api.call("GET", "/api/v1/calendar?rubric=astrology", token=t_mentor, expect=400))
    backwards = f"?from={iso(timedelta(days=5))}&to={iso(timedelta(days=1))}".replace("+", "%2B")
    assert "to" in errors(api.call("GET", f"/api/v1/calendar{backwards}", token=t_mentor, expect=400))
    api.call("GET", f"/api/v1/calendar/{uuid.uuid4()}", token=t_mentor, expect=404)


def test_the_author_edits_and_cancels_attendees_mark_and_are_told(api, moderator):
    (_, t_author), (_, t_other), (_, t_attendee) = person(api, "mentor"), person(api, "mentee"), person(api, "mentee")
    event = api.call("POST", "/api/v1/calendar", token=t_author, expect=201, json=online())
    path = f"/api/v1/calendar/{event['id']}"

    api.call("PATCH", path, token=t_other, expect=403, json={"title": "Mine now"})
    assert "ends_at" in errors(
        api.call("PATCH", path, token=t_author, expect=400, json={"ends_at": iso(timedelta(days=1))})
    )
    renamed = api.call("PATCH", path, token=t_author, json={"title": "Assessment for learning"})
    assert renamed["title"] == "Assessment for learning" and renamed["link"] == event["link"]

    attending = api.call("PUT", f"{path}/attendance", token=t_attendee)
    assert (attending["attendees_count"], attending["attending"]) == (1, True)
    assert api.call("PUT", f"{path}/attendance", token=t_attendee)["attendees_count"] == 1  # once per person
    as_author = api.call("GET", path, token=t_author)
    assert (as_author["attendees_count"], as_author["attending"]) == (1, False)
    assert api.call("DELETE", f"{path}/attendance", token=t_attendee)["attendees_count"] == 0
    api.call("PUT", f"{path}/attendance", token=t_attendee)

    moved = api.call(
        "PATCH",
        path,
        token=t_author,
        json={"format": "offline", "place": "Room 101", "starts_at": iso(timedelta(days=3)), "ends_at": None},
    )
    assert (moved["format"], moved["place"], moved["ends_at"]) == ("offline", "Room 101", None)
    [told] = api.call("GET", "/api/v1/inbox", token=t_attendee)["items"]
    assert (told["kind"], told["calendar_event_id"]) == ("calendar_event_changed", event["id"])

    api.call("POST", f"{path}/cancellation", token=t_other, expect=403, json={})
    cancelled = api.call("POST", f"{path}/cancellation", token=t_author, json={"reason": "The speaker is ill."})
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "The speaker is ill.")
    kinds = [e["kind"] for e in api.call("GET", "/api/v1/inbox", token=t_attendee)["items"]]
    assert kinds == ["calendar_event_cancelled", "calendar_event_changed"]
    assert api.call("GET", "/api/v1/inbox", token=t_author)["items"] == []  # the author is not told own steps
    api.call("PUT", f"{path}/attendance", token=t_other, expect=409)
    api.call("PATCH", path, token=t_author, expect=409, json={"title": "Back again"})
    assert event["id"] not in listed(api, t_other)
    assert event["id"] in listed(api, t_other, "?include_cancelled=true")

    # a moderator may cancel anyone's event
    other_event = api.call("POST", "/api/v1/calendar", token=t_other, expect=201, json=online(title="Spam"))
    _, t_mod = moderator
    assert (
        api.call(
            "POST", f"/api/v1/calendar/{other_event['id']}/cancellation", token=t_mod, json={"reason": "Off topic."}
        )["status"]
        == "cancelled"
    )


def test_a_time_zone_offset_no_place_uses_is_a_400_naming_the_field(api):
    """Real offsets run from -12:00 to +14:00; beyond +-14:00 (+15:00, +23:59) is a 400 naming the
    field, in the body and in the query, never a 500, and adds nothing."""
    (_, token) = person(api, "mentor")
    before = listed(api, token, "?include_cancelled=true&limit=200")
    in_two_days = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    for offset in ("+15:00", "-15:00", "+23:59", "-14:01"):
        for field in ("starts_at", "ends_at"):
            body = online(**{field: in_two_days + offset})
            if field == "ends_at":
                body["starts_at"] = iso(timedelta(days=1))
            assert field in errors(api.call("POST", "/api/v1/calendar", token=token, expect=400, json=body)), (
                field,
                offset,
            )
        for param in ("from", "to"):
            query = f"?{param}={in_two_days}{offset}".replace("+", "%2B")
            assert param in errors(api.call("GET", f"/api/v1/calendar{query}", token=token, expect=400)), (
                param,
                offset,
            )
    for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):  # no UTC instant in Python's range
        assert "from" in errors(
            api.call("GET", "/api/v1/calendar?from=" + edge.replace("+", "%2B"), token=token, expect=400)
        ), edge
    assert listed(api, token, "?include_cancelled=true&limit=200") == before
    # the extremes real places use are accepted
    event = api.call(
        "POST",
        "/api/v1/calendar",
        token=token,
        expect=201,
        json=online(starts_at=in_two_days + "+14:00", ends_at=in_two_days + "-12:00"),
    )
    assert event["starts_at"]
