"""The walkthrough `up` and `demo` print: a case end to end with curl and jq against the demo accounts
(README: "A case end to end").
"""

import json
import os
import shlex

from runner_demo import (
    DEMO_APPLICANT,
    DEMO_MENTEE,
    DEMO_MODERATOR,
    DEMO_PASSWORD,
)
from runner_infrastructure import (
    MAIL_CATCHER,
)
from runner_processes import (
    log_file,
    say,
)
from runner_table import (
    ROOT,
    gateway_url,
    this_command,
)


def print_walkthrough():
    base = gateway_url()
    from contracts.case_form import example_case_form  # the installed project's (README: pip install -e .)

    case = example_case_form()
    solution = {
        "text": "Agree on three class rules together with the pupils and keep to them every lesson; "
        "meet the parent committee with concrete, positive proposals.",
        "materials": [
            {"title": "Classroom management that works", "reference": "https://example.org/classroom-management"}
        ],
    }
    # the reflection rates each solution by its id: filled in by jq from $SOLUTION
    reflection = (
        '{problem_solved: "partly", helpfulness: {($s): 5}, actions: "Agreed rules with the class.", '
        'learned: "Involve the pupils in setting the rules.", comment: "Thank you!"}'
    )
    j = lambda obj: shlex.quote(json.dumps(obj, ensure_ascii=False))  # noqa: E731
    auth = lambda who: f'-H "Authorization: Bearer ${who}"'  # noqa: E731
    body = "-H 'Content-Type: application/json'"
    lines = [
        f"Try it (needs curl and jq; OpenAPI at {base}/openapi.json):",
        "",
        f"BASE={base}",
        "signin() { curl -s -X POST $BASE/api/v1/auth/sign-in "
        + body
        + ' -d "{\\"email\\":\\"$1\\",\\"password\\":\\"'
        + DEMO_PASSWORD
        + '\\"}" | jq -r .access_token; }',
        "",
        "# 1. the mentee files a case",
        f"MENTEE=$(signin {DEMO_MENTEE['email']})",
        f"CASE=$(curl -s -X POST $BASE/api/v1/cases {auth('MENTEE')} {body} -d {j(case)} | jq -r .id)",
        "",
        "# 2. a moment later matching has proposed mentors (state choosing_mentor); the mentee picks one",
        f"sleep 2; curl -s $BASE/api/v1/cases/$CASE {auth('MENTEE')} | jq '{{number, state, proposed_mentors: "
        '[.proposed_mentors[] | {mentor_id, score, name: (.profile.first_name + " " + .profile.last_name)}]}\'',
        f"MENTOR_ID=$(curl -s $BASE/api/v1/cases/$CASE {auth('MENTEE')} | jq -r '.proposed_mentors[0].mentor_id')",
        f"curl -s -X POST $BASE/api/v1/cases/$CASE/mentor {auth('MENTEE')} {body} "
        '-d "{\\"mentor_id\\":\\"$MENTOR_ID\\"}" | jq .state',
        "",
        "# 3. the chosen mentor (one of mentor1..3) is notified, accepts, writes a possible solution",
        "for n in 1 2 3; do T=$(signin mentor$n@demo.local); "
        f'[ "$(curl -s $BASE/api/v1/me {auth("T")} | jq -r .id)" = "$MENTOR_ID" ] && MENTOR=$T; done',
        f"curl -s $BASE/api/v1/inbox {auth('MENTOR')} | jq '.items[] | {{kind, text}}'",
        f"curl -s -X POST $BASE/api/v1/cases/$CASE/accept {auth('MENTOR')} | jq .state",
        f"SOLUTION=$(curl -s -X POST $BASE/api/v1/cases/$CASE/solutions {auth('MENTOR')} {body} -d {j(solution)} "
        "| jq -r '.solutions[-1].id'); echo $SOLUTION",
        "",
        "# 4. the mentee completes the case with a reflection sheet; with consent it becomes a draft for the"
        " library, which the mentee previews and a moderator reads, edits if need be, and publishes",
        f"curl -s -X POST $BASE/api/v1/cases/$CASE/completion {auth('MENTEE')} {body} "
        f'-d "$(jq -n --arg s "$SOLUTION" {shlex.quote(reflection)})" | jq .state',
        f"sleep 2; curl -s $BASE/api/v1/me/publications {auth('MENTEE')} | jq '.items[] | {{id, state, texts}}'",
        f"MODERATOR=$(signin {DEMO_MODERATOR['email']})",
        f"DRAFT=$(curl -s $BASE/api/v1/library/drafts {auth('MODERATOR')} | jq -r '.items[0].id')",
        f"curl -s -X POST $BASE/api/v1/library/drafts/$DRAFT/publication {auth('MODERATOR')} | jq .state",
        f"curl -s $BASE/api/v1/library {auth('MENTEE')} | jq '.items[] | {{id, rubrics, essence}}'",
        f"curl -s $BASE/api/v1/inbox {auth('MENTEE')} | jq '.items[] | {{kind, text}}'",
        f"curl -s $BASE/api/v1/cases/$CASE/history {auth('MENTEE')} | jq '[.items[].type]'",
        "",
        "# 5. the moderator keeps the roll of mentors: mentor4 has applied; approve (or reject with a reason)",
        f"curl -s $BASE/api/v1/accreditation/applications {auth('MODERATOR')} | jq '.items[] | {{id, "
        'name: (.profile.first_name + " " + .profile.last_name), rubrics: .profile.rubrics, experience}\'',
        f"APP=$(curl -s $BASE/api/v1/accreditation/applications {auth('MODERATOR')} | jq -r '.items[0].id')",
        f"curl -s -X POST $BASE/api/v1/accreditation/applications/$APP/approve {auth('MODERATOR')} | jq .state",
        "curl -s $BASE/api/v1/mentors | jq '[.items[] | .last_name]'   # public: the roll of mentors",
        "",
        "# follow one request through every service's log",
        f"curl -s -o /dev/null -X POST $BASE/api/v1/cases {auth('MENTEE')} {body} "
        f"-H 'X-Correlation-ID: demo-trace-1' -d {j(case)}",
        "sleep 2; grep -h demo-trace-1 .run/logs/*.log | jq -c '{service, event}'",
        "",
        f"Accounts: {DEMO_MENTEE['email']}, mentor1@demo.local .. mentor3@demo.local (accredited), "
        f"{DEMO_APPLICANT[0]['email']} (applied), "
        f"{DEMO_MODERATOR['email']}; password {DEMO_PASSWORD}.",
        f"Notification e-mails (the mail catcher's): {os.path.relpath(log_file(MAIL_CATCHER), ROOT)}.",
        f"Stop with `{this_command()} down`; see `{this_command()} status` and `{this_command()} logs [service]`.",
    ]
    say("\n".join(lines))
