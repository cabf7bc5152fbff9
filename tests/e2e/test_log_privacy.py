"""Log lines never carry personal data (issue 19, part 3): a whole journey over the real platform -
registration, questionnaire, the roll of mentors, a case with texts, questions and answers, messages,
a colleague's opinion, solutions, the reflection, the library and the forum, a direct message, erasure
of two of them - then
every service's log output (the JSON lines of services/common/logs.py, and anything else a process
printed) is read for any of the personal strings the journey used. Logs are kept by operators and
shipped to log stores no erasure reaches, so a name, an address or a sentence someone wrote must never
be in them; ids (opaque UUIDs) and correlation ids are fine.

The module starts its own platform (the e2e ``platform`` fixture is module scoped), so its logs hold
this journey and the services' start-up alone."""

import json
import subprocess
import uuid

import psycopg2
import pytest
from kombu import Connection

from tests.support import case_form, eventually, run_research

pytestmark = pytest.mark.e2e

RUBRIC = "interaction-with-parents"  # no other e2e test files or advises in it: the proposals are ours

# Names nothing else in the platform's output could contain by chance.
MENTEE = ("Zlatoslava", "Kurochkina")
MENTOR = ("Svyatopolk", "Rzhevsky")
COLLEAGUE = ("Evpraksia", "Tugarina")
MODERATOR = ("Feofania", "Bezrukova")
PHONE = "+7 903 417-28-66"
PRIVATE_EMAIL = "z.kurochkina.home@example.net"

TEXTS = {
    "school": "Gymnasium Tridevyatoe",
    "institute": "Chernomorsky Pedagogical Institute",
    "essence": f"My pupil Yaroslav Gorbunkov hides under the desk; his mother calls me at {PHONE} nightly.",
    "question": "How do I calm the Gorbunkov family without breaking the rules of the lyceum?",
    "experience": "Thirty winters of teaching at the Lukomorye lyceum.",
    "own_question": "What would the headmistress Vasilisa Premudraya advise you?",
    "answer": f"She would write to {PRIVATE_EMAIL} and invite the mother for tea.",
    "message": "Спасибо, завтра попробую разговор за чаем с баранками, kettle-and-biscuits.",
    "reply": "Good luck with the kettle-and-biscuits talk.",
    "opinion": "Ask the school psychologist Koschei Bessmertny to sit in.",
    "solution": "Meet the Gorbunkov mother with the form tutor and agree one evening call a week.",
    "actions": "A tea with the mother on Thursday at the samovar.",
    "learned": "Listening before advising calmed the samovar mood.",
    "forum_title": "Evening calls from a worried mother",
    "forum_post": "We had a mother calling at midnight; a weekly slot with Baba Yaga Kostyanaya helped.",
    "direct": "Could you look at the kettle-and-biscuits case with me?",
}


def _state(platform, path, token, state):
    case = platform.call("GET", path, token=token)
    return case if case["state"] == state else None


def _inbox_kinds(platform, token):
    return [e["kind"] for e in platform.call("GET", "/api/v1/inbox", token=token)["items"]]


@pytest.fixture(scope="module")
def journey(platform):
    """The whole journey, up to two erasures and every service's shredding of them; what the tests read."""
    mentee, t_mentee = platform.person("mentee", *MENTEE)
    platform.call(
        "PUT",
        "/api/v1/me/questionnaire",
        token=t_mentee,
        json={
            "school": TEXTS["school"],
            "subjects": ["History"],
            "forms_taught": [7],
            "years_of_practice": 1,
            "graduation_year": 2024,
            "graduation_institute": TEXTS["institute"],
        },
    )
    mentor, t_mentor = platform.mentor(
        *MENTOR, [RUBRIC], place_of_work=TEXTS["institute"], position="Docent", motto=TEXTS["experience"]
    )
    colleague, t_colleague = platform.mentor(*COLLEAGUE, ["self-management"])
    email, password = platform.moderator_account(*MODERATOR)
    t_moderator = platform.call("POST", "/api/v1/auth/sign-in", json={"email": email, "password": password})[
        "access_token"
    ]
    platform.call(
        "POST", "/api/v1/auth/sign-in", json={"email": mentee["email"], "password": "wrong password"}, expect=401
    )  # a refusal logs too

    case = platform.call(
        "POST",
        "/api/v1/cases",
        token=t_mentee,
        expect=201,
        json=case_form(
            rubrics=[RUBRIC],
            mode="personal",
            group_discussion_consent=True,
            publication_consent=True,
            essence=TEXTS["essence"],
            question=TEXTS["question"],
        ),
    )
    path = f"/api/v1/cases/{case['id']}"
    platform.call(
        "POST", "/api/v1/cases", token=t_mentee, expect=400, json=case_form(essence=TEXTS["essence"] + "x" * 1000)
    )  # refused input is not logged either
    eventually(lambda: _state(platform, path, t_mentee, "choosing_mentor"), timeout=30, message="mentors proposed")
    platform.call("POST", f"{path}/mentor", token=t_mentee, json={"mentor_id": mentor["id"]})
    platform.call("POST", f"{path}/accept", token=t_mentor)
    platform.call("GET", f"{path}/author", token=t_mentor)  # the personal format: the questionnaire read

    asked = platform.call(
        "POST",
        f"{path}/questions",
        token=t_mentor,
        expect=201,
        json={
            "questions": [
                {"bank_id": "goals-3", "kind": "clarifying"},
                {"text": TEXTS["own_question"], "kind": "developing"},
            ]
        },
    )
    q1, q2 = asked["questions"]
    platform.call(
        "POST",
        f"{path}/answers",
        token=t_mentee,
        json={
            "answers": [
                {"question_id": q1["id"], "text": TEXTS["answer"]},
                {"question_id": q2["id"], "text": TEXTS["answer"]},
            ]
        },
    )
    platform.call("POST", f"{path}/keep-request", token=t_mentee)  # the answers settle it: the request stands
    platform.call("POST", f"{path}/colleagues", token=t_mentor, json={"colleague_ids": [colleague["id"]]})
    eventually(
        lambda: "opinion_requested" in _inbox_kinds(platform, t_colleague) or None, message="the colleague is asked"
    )
    platform.call("POST", f"{path}/opinions", token=t_colleague, expect=201, json={"text": TEXTS["opinion"]})
    platform.call("POST", f"{path}/messages", token=t_mentee, expect=201, json={"text": TEXTS["message"]})
    platform.call("POST", f"{path}/messages", token=t_mentor, expect=201, json={"text": TEXTS["reply"]})
    platform.call("POST", f"{path}/forum", token=t_mentee, json={"title": TEXTS["forum_title"]})
    solved = platform.call(
        "POST",
        f"{path}/solutions",
        token=t_mentor,
        expect=201,
        json={
            "text": TEXTS["solution"],
            "materials": [{"title": "Talking with parents", "reference": "https://example.org/parents"}],
        },
    )
    platform.call(
        "POST",
        f"{path}/completion",
        token=t_mentee,
        json={
            "problem_solved": "yes",
            "helpfulness": {solved["solutions"][0]["id"]: 5},
            "actions": TEXTS["actions"],
            "learned": TEXTS["learned"],
        },
    )

    platform.publish_draft(t_mentee, case["id"], "solved_case", t_moderator)
    platform.publish_draft(t_mentee, case["id"], "forum_post", t_moderator)
    eventually(
        lambda: platform.call("GET", f"/api/v1/library?rubric={RUBRIC}&kind=solved_case", token=t_colleague)["items"],
        timeout=30,
        message="the library entry",
    )

    def thread():
        threads = platform.call("GET", f"/api/v1/forum/threads?rubric={RUBRIC}", token=t_colleague)["items"]
        return next((t["id"] for t in threads if t["title"] == TEXTS["forum_title"]), None)

    thread_id = eventually(thread, message="the case's forum thread")
    platform.call(
        "POST",
        f"/api/v1/forum/threads/{thread_id}/posts",
        token=t_colleague,
        expect=201,
        json={"text": TEXTS["forum_post"]},
    )
    platform.call(
        "POST",
        "/api/v1/messages",
        token=t_mentor,
        expect=201,
        json={"recipient_id": colleague["id"], "text": TEXTS["direct"]},
    )
    eventually(
        lambda: "message_received" in _inbox_kinds(platform, t_mentor) or None,
        message="the mentor is told of the mentee's message",
    )
    platform.call("GET", "/api/v1/me/data", token=t_mentee)
    statistics = platform.call("GET", "/api/v1/statistics", token=t_moderator)
    published = platform.call("GET", f"/api/v1/library?rubric={RUBRIC}&kind=solved_case", token=t_colleague)["items"]

    # erasure (crypto-shredding): the colleague erases their own account (a wrong password first), a
    # moderator the mentee's on her written request; every other service shreds its key of them
    platform.call("DELETE", "/api/v1/me", token=t_colleague, json={"password": "wrong password"}, expect=400)
    platform.call("DELETE", "/api/v1/me", token=t_colleague, json={"password": "correct horse battery"})
    platform.call(
        "POST",
        f"/api/v1/people/{mentee['id']}/erasure",
        token=t_moderator,
        json={"reason": "Written request no. 2026-41 of 1 December"},
    )
    for service in ("cases", "matching", "notifications", "library"):
        eventually(
            lambda service=service: all(
                any(
                    '"person_erased"' in line and person in line
                    for line in platform.processes[service].log_text().splitlines()
                )
                for person in (mentee["id"], colleague["id"])
            ),
            timeout=30,
            message=f"{service} shredded its keys of the erased",
        )
    return {
        "mentee": mentee,
        "mentor": mentor,
        "colleague": colleague,
        "moderator_email": email,
        "t_moderator": t_moderator,
        "case": case,
        "statistics": statistics,
        "published": published,
    }


def test_no_log_line_of_any_service_carries_the_personal_data_of_a_whole_journey(platform, journey):
    mentee, mentor, colleague = journey["mentee"], journey["mentor"], journey["colleague"]
    personal = [
        *MENTEE,
        *MENTOR,
        *COLLEAGUE,
        *MODERATOR,
        mentee["email"],
        mentor["email"],
        colleague["email"],
        journey["moderator_email"],
        PRIVATE_EMAIL,
        PHONE,
        "417-28-66",
        "Gorbunkov",
        "Vasilisa",
        "Bessmertny",
        "Kostyanaya",
        *TEXTS.values(),
    ]
    logs = {name: process.log_text() for name, process in platform.processes.items()}
    assert all(logs.values()), "a service wrote no log line at all: the test would see nothing"
    # the services did log this journey, by its ids (opaque, so allowed): the files read are the right ones
    assert mentee["id"] in logs["identity"] and any('"event_type"' in text for text in logs.values())
    leaks = [
        (service, secret, line[:300])
        for service, text in logs.items()
        for line in text.splitlines()
        for secret in personal
        if _carries(line, secret)
    ]
    assert leaks == [], "personal data in the logs:\n" + "\n".join(map(str, leaks))


def test_nothing_the_erased_wrote_or_were_called_is_left_in_any_database_or_queue(platform, journey, test_env):
    """Issue 19, part 3: after erasure, every table of every service's database (the cases event store's
    bytes included) and every message queued on the session's broker is read for the erased mentee's and
    colleague's plaintext: none. Published library entries are impersonal and stay (their text was
    anonymized and reviewed, so none of the strings below is in them: the control shows they are read)."""
    secrets = _erased_secrets(journey)
    rows = list(_database_rows(platform))
    queued = list(_queued_messages(test_env))
    # controls: the scan reads what it claims to read
    assert queued, "no queue was read"
    case_store = [blob for service, table, blob in rows if service == "cases" and table == "cases_events"]
    assert any(journey["case"]["number"].encode() in blob and RUBRIC.encode() in blob for blob in case_store), (
        "the cases event store's rows were not read as their bytes; tables read: "
        + ", ".join(sorted({f"{service}.{table}" for service, table, _ in rows}))
    )
    [entry] = [item for item in journey["published"] if "hides under the desk" in item["essence"]]  # the journey's
    assert any(entry["essence"].encode() in blob for service, table, blob in rows if table == "library_entries"), (
        "the published entry (impersonal, kept) is not where the scan looked"
    )
    leaks = sorted(
        {
            (where, secret)
            for where, blob in [(f"{service}.{table}", blob) for service, table, blob in rows]
            + [(f"queue {queue}", body) for queue, body in queued]
            for secret in secrets
            if any(form in blob for form in _forms(secret))
        }
    )
    assert leaks == [], "plaintext of the erased at rest:\n" + "\n".join(map(str, leaks))


def test_after_erasure_the_log_replays_the_library_rebuilds_and_the_statistics_hold(platform, journey, tmp_path):
    """The cases log still replays (every case of the journey opens, its erased texts read "[erased]"), the
    library rebuilt from the logs equals the live one, and the moderators' statistics are those of
    before the erasures."""
    cases_url, library_url = platform.env["CASES_DATABASE_URL"], platform.env["LIBRARY_DATABASE_URL"]
    code, out = run_research("timeline", "--database-url", cases_url, journey["case"]["id"], "--version", "14")
    assert code == 0, out
    assert "[erased]" in out and TEXTS["answer"] not in out, out
    into = platform.test_env.database_url(f"privacy_rebuilt_{uuid.uuid4().hex[:8]}")
    code, out = run_research(
        "rebuild", "library", "--cases-url", cases_url, "--library-url", library_url, "--into-url", into
    )
    assert code == 0, out
    code, out = run_research("verify", "library", "--live-url", library_url, "--rebuilt-url", into)
    assert code == 0 and "live and rebuilt are equal" in out, out
    code, out = run_research("report", "--database-url", cases_url, "--out", str(tmp_path / "report"))
    assert code == 0, out
    after = platform.call("GET", "/api/v1/statistics", token=journey["t_moderator"])
    assert after == journey["statistics"]


def _erased_secrets(journey):
    """What the erased mentee and colleague were called or wrote and nobody published. Parts of texts that
    went into the library anonymized are covered by the whole texts (the anonymized copy differs from
    them): the essence, question and answer each hold a name, a phone or an e-mail. Lower-case words
    stand for the lexemes of a search index."""
    return [
        *MENTEE,
        *COLLEAGUE,
        journey["mentee"]["email"],
        journey["colleague"]["email"],
        PRIVATE_EMAIL,
        PHONE,
        "417-28-66",
        TEXTS["school"],
        *(TEXTS[key] for key in ("essence", "question", "answer", "message", "actions", "learned")),
        *(TEXTS[key] for key in ("opinion", "forum_post")),
        "yaroslav",
        "samovar",
        "баранк",
        "kostyanaya",
    ]


def _forms(secret):
    """The secret as bytes the ways a table or a message may hold it: UTF-8, JSON-escaped (ASCII), and in
    lower case (a tsvector's lexemes)."""
    forms = {secret, json.dumps(secret)[1:-1], secret.lower()}
    return [form.encode() for form in forms]


def _database_rows(platform):
    """(service, table, the row's bytes) of every table of every service's database: bytea as stored,
    everything else as the text PostgreSQL gives it (jsonb unescaped)."""
    for service in ("identity", "matching", "cases", "notifications", "library"):
        conn = psycopg2.connect(platform.env[f"{service.upper()}_DATABASE_URL"])
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
                tables = cur.fetchall()
            for schema, table in tables:
                with conn.cursor() as cur:
                    cur.execute(f'SELECT * FROM "{schema}"."{table}"')
                    for row in cur:
                        yield service, table, b"\x00".join(_bytes(value) for value in row)
        finally:
            conn.close()


def _bytes(value):
    if isinstance(value, memoryview | bytes):
        return bytes(value).lower() + b"\x00" + bytes(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return (text + "\x00" + text.lower()).encode()


def _queued_messages(test_env):
    """(queue, body) of every message ready in every queue of the session's vhost, read without taking
    it (the channel closes unacknowledged, so the broker puts each back). Exclusive queues (a process's
    own, e.g. the gateway's session feed) are left out: no other connection may read them, and they go
    with their connection."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", test_env._vhost, "name", "exclusive"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    names = [row[0] for row in rows if len(row) == 2 and row[1].strip() == "false"]
    with Connection(test_env.amqp_uri) as conn:
        for name in names:
            channel = conn.channel()
            try:
                yield name, b"(queue read)"
                while (message := channel.basic_get(name, no_ack=False)) is not None:
                    yield name, bytes(message.body) + b"\x00" + bytes(message.body).lower()
            finally:
                channel.close()


def _carries(line, secret):
    """The line holds the secret as written, or as JSON escapes it (a log line is JSON)."""
    return secret in line or json.dumps(secret)[1:-1] in line
