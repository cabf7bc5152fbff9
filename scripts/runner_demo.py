"""The demo data `up` and `demo` load through the gateway: a moderator, a mentee, three mentors on
the roll of mentors and one whose application waits (idempotent: existing accounts are fine).
"""

import os
import subprocess
import sys

from runner_processes import (
    say,
)
from runner_table import (
    ROOT,
    gateway_url,
    setting,
)

DEMO_PASSWORD = "demo-password-1"


DEMO_MENTEE = {
    "email": "mentee@demo.local",
    "password": DEMO_PASSWORD,
    "role": "mentee",
    "first_name": "Anna",
    "last_name": "Smirnova",
    "patronymic": "Sergeevna",
}


DEMO_MENTORS = [
    (
        {
            "email": "mentor1@demo.local",
            "password": DEMO_PASSWORD,
            "role": "mentor",
            "first_name": "Elena",
            "last_name": "Petrova",
            "patronymic": "Viktorovna",
        },
        {
            "rubrics": ["class-management-motivation", "interaction-with-parents", "professional-ethics"],
            "place_of_work": "Moscow City University",
            "institute": "Institute of Pedagogy and Psychology of Education",
            "position": "Associate Professor, Department of Pedagogy",
            "interests": "Classroom climate, discipline without coercion, school-family partnership.",
            "links": ["https://www.mgpu.ru/"],
            "motto": "Every class can become a team.",
            "accepting_cases": True,
        },
    ),
    (
        {
            "email": "mentor2@demo.local",
            "password": DEMO_PASSWORD,
            "role": "mentor",
            "first_name": "Dmitry",
            "last_name": "Volkov",
            "patronymic": "Andreevich",
        },
        {
            "rubrics": ["digital-technologies", "teaching-methods", "monitoring-evaluation"],
            "place_of_work": "Moscow City University",
            "institute": "Institute of Digital Education",
            "position": "Senior Lecturer, Department of Informatics Teaching Methods",
            "interests": "Blended learning, formative assessment, digital learning environments.",
            "links": [],
            "motto": "Technology serves pedagogy, not the other way round.",
            "accepting_cases": True,
        },
    ),
    (
        {
            "email": "mentor3@demo.local",
            "password": DEMO_PASSWORD,
            "role": "mentor",
            "first_name": "Olga",
            "last_name": "Kuznetsova",
            "patronymic": "Ivanovna",
        },
        {
            "rubrics": ["personal-resources", "self-management", "families-at-risk", "interaction-with-parents"],
            "place_of_work": "Moscow City University",
            "institute": "Institute of Social Sciences",
            "position": "Professor, Department of Social Pedagogy",
            "interests": "Burnout prevention, early-career teachers, supporting families in difficult situations.",
            "links": [],
            "motto": "Take care of yourself first, then of the class.",
            "accepting_cases": True,
        },
    ),
]


# Applied, not yet decided: the demo moderator approves or rejects it.
DEMO_APPLICANT = (
    {
        "email": "mentor4@demo.local",
        "password": DEMO_PASSWORD,
        "role": "mentor",
        "first_name": "Sergey",
        "last_name": "Morozov",
        "patronymic": "Nikolaevich",
    },
    {
        "rubrics": ["education-law", "urban-educational-projects"],
        "place_of_work": "Moscow City University",
        "institute": "Institute of Law and Management",
        "position": "Associate Professor, Department of Education Law",
        "interests": "School regulations, rights of pupils and teachers, city education projects.",
        "links": [],
        "motto": "Know your rights, and the rights of your pupils.",
        "accepting_cases": True,
    },
)


DEMO_AVAILABILITY = {"capacity": 5, "away_periods": []}


def demo_application(form):
    return {
        "experience": f"{form['first_name']} {form['last_name']}: university lecturer, supervises the "
        "teaching practice of students and young teachers.",
        "motivation": "To help novice teachers through their first years at school.",
    }


DEMO_MODERATOR = {
    "email": "moderator@demo.local",
    "password": DEMO_PASSWORD,
    "first_name": "Irina",
    "last_name": "Sokolova",
    "patronymic": "Pavlovna",
}


def load_demo():
    """Register the demo accounts through the gateway (existing ones are fine): the moderator, the
    mentee, three mentors on the roll of mentors (profile, availability, approved application) and one
    whose application waits for the moderator."""
    import requests

    base = f"{gateway_url()}/api/v1"
    session = requests.Session()

    def call(method, path, token=None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return session.request(method, f"{base}{path}", headers=headers, timeout=15, **kwargs)

    def register(form):
        """Register (the answer is the same for an existing account) and confirm the e-mail as the
        operator does (the demo addresses receive no mail): ready to file cases and apply."""
        response = call("POST", "/auth/register", json=form)
        if response.status_code != 202:
            raise RuntimeError(f"register {form['email']}: HTTP {response.status_code} {response.text[:300]}")
        if not verify_email(form["email"]):
            raise RuntimeError(f"verify the e-mail of {form['email']}: see above")
        return "registered and verified"

    def sign_in(email):
        response = call("POST", "/auth/sign-in", json={"email": email, "password": DEMO_PASSWORD})
        if response.status_code != 200:
            raise RuntimeError(f"sign in {email}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()["access_token"]

    def expect(response, what, *statuses):
        if response.status_code not in statuses:
            raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def on_the_roll(form, profile, moderator_token, approve=True):
        """Register, write the profile and availability, apply; the moderator approves (idempotent)."""
        outcome = register(form)
        token = sign_in(form["email"])
        expect(call("PUT", "/me/mentor-profile", token=token, json=profile), f"mentor profile of {form['email']}", 200)
        expect(
            call("PUT", "/me/availability", token=token, json=DEMO_AVAILABILITY),
            f"availability of {form['email']}",
            200,
        )
        roll = expect(call("GET", "/me/accreditation", token=token), f"accreditation of {form['email']}", 200)
        if roll["state"] in ("none", "rejected"):
            roll = expect(
                call("POST", "/me/accreditation", token=token, json=demo_application(form)),
                f"application of {form['email']}",
                201,
            )
        if approve and roll["state"] == "pending":
            expect(
                call("POST", f"/accreditation/applications/{roll['application']['id']}/approve", token=moderator_token),
                f"approval of {form['email']}",
                200,
            )
            roll["state"] = "accredited"
        return outcome, roll["state"]

    say("demo data:")
    outcome = create_moderator()  # first: the moderator keeps the roll of mentors
    if outcome is None:
        return 1
    say(f"  moderator {DEMO_MODERATOR['email']:22} {outcome}")
    try:
        moderator_token = sign_in(DEMO_MODERATOR["email"])
        say(f"  mentee    {DEMO_MENTEE['email']:22} {register(DEMO_MENTEE)}")
        sign_in(DEMO_MENTEE["email"])
        for form, profile in DEMO_MENTORS:
            outcome, state = on_the_roll(form, profile, moderator_token)
            say(f"  mentor    {form['email']:22} {outcome}; {state}; profile: {', '.join(profile['rubrics'])}")
        form, profile = DEMO_APPLICANT
        outcome, state = on_the_roll(form, profile, moderator_token, approve=False)
        say(f"  mentor    {form['email']:22} {outcome}; {state}: an application for the moderator to decide")
    except (requests.RequestException, RuntimeError) as exc:
        say(f"  failed: {exc}")
        return 1
    say(f"  every demo password: {DEMO_PASSWORD}\n")
    return 0


def create_moderator():
    """Moderators are never self-registered: the identity service's operator command makes one."""
    m = DEMO_MODERATOR
    env = dict(os.environ)
    env["IDENTITY_DATABASE_URL"] = setting("IDENTITY_DATABASE_URL")
    # the service's master key: the account's fields are sealed with keys the running identity opens
    env["IDENTITY_PERSON_KEYS_MASTER_KEY"] = setting("IDENTITY_PERSON_KEYS_MASTER_KEY")
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-m",
            "services.identity.admin",
            "create-moderator",
            "--email",
            m["email"],
            "--password",
            m["password"],
            "--first-name",
            m["first_name"],
            "--last-name",
            m["last_name"],
            "--patronymic",
            m["patronymic"],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode == 0:
        return "created"
    if result.returncode == 1 and "already exists" in result.stderr:
        return "already exists"
    say(
        f"  moderator: `python -m services.identity.admin create-moderator` failed "
        f"({result.returncode}): {(result.stderr or result.stdout).strip()[-500:]}"
    )
    return None


def verify_email(email):
    """The demo accounts are verified by the operator command (no mailbox reads the demo's links)."""
    env = dict(os.environ)
    env["IDENTITY_DATABASE_URL"] = setting("IDENTITY_DATABASE_URL")
    # the service's master key: the account's fields are sealed with keys the running identity opens
    env["IDENTITY_PERSON_KEYS_MASTER_KEY"] = setting("IDENTITY_PERSON_KEYS_MASTER_KEY")
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "services.identity.admin", "verify-email", "--email", email],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        say(
            f"  `python -m services.identity.admin verify-email` failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )
    return result.returncode == 0
