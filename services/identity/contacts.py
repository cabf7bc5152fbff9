"""What other services may learn of an account to reach it or to check a role (an erased account:
nothing, as if it did not exist; its sealed e-mail and names are opened by the caller's vault).

Service-to-service only: the gateway exposes none of these RPCs (a unit test checks it).
notifications asks for an e-mail address when it sends a notification e-mail, and keeps
none; it asks for a role when a mentor writes a direct message.
"""

from contracts.errors import NotFound
from contracts.rpc_identity import ContactSchema
from contracts.validation import schema_of
from services.identity.accounts import existing_id

NO_SUCH_USER = "No such user."


def wanted_id(user_id):
    """The account id asked for; NotFound when it cannot be one (no such user, as for any unknown id)."""
    return existing_id(user_id, NO_SUCH_USER)


def display_name(row):
    return " ".join(part for part in (row["first_name"], row["last_name"]) if part)


def contact_view(row):
    return schema_of(ContactSchema).dump(
        {"user_id": str(row["id"]), "email": row["email"], "display_name": display_name(row), "role": row["role"]}
    )


def contact(cur, user_id):
    cur.execute(
        "SELECT id, email, role, first_name, last_name FROM users WHERE id = %s AND erased_at IS NULL", (user_id,)
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound(NO_SUCH_USER)
    return row


def moderators(cur):
    cur.execute(
        "SELECT id, email, role, first_name, last_name FROM users WHERE role = 'moderator' AND erased_at IS NULL "
        "ORDER BY id"
    )
    return cur.fetchall()


def survey_audience(cur, roles, rubrics):
    """The ids of everyone a survey asks (services/library/surveys.py ``in_audience``, the same rule):
    mentees and accredited mentors; when ``rubrics`` are given, only the mentees whose questionnaire
    declares one of them as a rubric of interest (none declared, or no questionnaire: not asked) and the
    mentors advising in one of them."""
    ids = []
    if "mentee" in roles:
        cur.execute(
            "SELECT u.id::text FROM users u LEFT JOIN questionnaires q ON q.user_id = u.id "
            "WHERE u.role = 'mentee' AND u.erased_at IS NULL "
            "AND (cardinality(%s::text[]) = 0 OR q.rubrics && %s::text[]) ORDER BY u.id",
            (list(rubrics), list(rubrics)),
        )
        ids += [row["id"] for row in cur.fetchall()]
    if "mentor" in roles:
        cur.execute(
            "SELECT u.id::text FROM users u JOIN accreditations a ON a.mentor_id = u.id "
            "LEFT JOIN mentor_profiles p ON p.mentor_id = u.id "
            "WHERE u.role = 'mentor' AND a.state = 'accredited' AND u.erased_at IS NULL "
            "AND (cardinality(%s::text[]) = 0 OR p.rubrics && %s::text[]) ORDER BY u.id",
            (list(rubrics), list(rubrics)),
        )
        ids += [row["id"] for row in cur.fetchall()]
    return ids
