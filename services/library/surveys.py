"""Surveys (issue #22 part 1): a moderator, or an accredited mentor when moderators allow it, asks the
mentees, the mentors or both (optionally only those of some rubrics) a few questions for a period;
each person in the audience answers once; the author reads aggregates only.

Why the library: it is the platform's shared portal (library, forum), so a survey sits beside the
other things everyone reads, and the library already has an outbox and its own log of facts.

How the data keeps answers anonymous:

- ``survey_answers`` is each survey's own stream of facts: ``(survey_id, seq, answers)``, the answers as
  given, numbered 1, 2, ... per survey, append-only, and nothing about who gave them (no person, no
  time). The results can be rebuilt from it at any time (``fold``).
- ``survey_respondents`` says only who has answered which survey, for "answer once": no answer, no
  time, no order.
- ``survey_results`` is the running aggregate, updated with each answer in the same transaction
  (``apply``); free text goes into it through the anonymizer, as its author will read it.

Audience: a person's role decides (``contracts.surveys.AUDIENCE_ROLES``); a mentor must be accredited,
and for a survey restricted to rubrics, advise in one of them (both from identity's MentorProfileUpdated
snapshots, kept in ``survey_mentors``); a mentee, for such a survey, must have declared one of them as a
rubric of interest in the questionnaire (identity's MenteeInterestsUpdated, kept in ``survey_mentees``; a
mentee who declared none is asked only by surveys without rubrics). Inbox entries go out once per survey,
when it opens (``SurveyOpened`` in the outbox; notifications resolves the same audience from identity).
"""

import uuid
from datetime import datetime, timezone

from psycopg2.extras import Json

from contracts.errors import Forbidden, InvalidInput, NotFound
from contracts.surveys import AUDIENCE_ROLES, CHOICE_KINDS, SCALE, TEXT_ANSWER_MAX, question_id
from services.common import outbox
from services.common.anonymizer import scrub
from services.library import sealing

SURVEY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mentor-platform:library:surveys")
SETTING_MENTORS_MAY_CREATE = "mentors_may_create"
SURVEY_COLUMNS = (
    "id::text, author_id, title, audience, rubrics, opens_at, closes_at, questions, created_at, announced_at"
)


# ---- pure pieces -----------------------------------------------------------------------------


def survey_id(actor, request_key):
    """One request (one Idempotency-Key of one person) creates at most one survey."""
    return uuid.uuid5(SURVEY_NAMESPACE, f"survey:{actor['user_id']}:{request_key}")


def numbered(questions):
    """The questions as stored: each with its id, ``q1``, ``q2``, ..."""
    return [
        {
            "id": question_id(i),
            "kind": q["kind"],
            "text": q["text"],
            "required": q["required"],
            "options": list(q["options"]),
        }
        for i, q in enumerate(questions)
    ]


def state_of(survey, now):
    if now < survey["opens_at"]:
        return "scheduled"
    return "open" if now < survey["closes_at"] else "closed"


def in_audience(survey, role, known=None):
    """Whether a person of ``role`` is asked. ``known``: what the library knows of them, or None for
    nothing yet (a mentor: their ``survey_mentors`` row; a mentee: their ``survey_mentees`` row)."""
    if role not in AUDIENCE_ROLES[survey["audience"]]:
        return False
    if role == "mentor" and (known is None or not known["accredited"]):
        return False
    if not survey["rubrics"]:
        return True
    return known is not None and bool(set(survey["rubrics"]) & set(known["rubrics"]))


class _Refusals:
    """Every question's refusal, gathered, so a person sees them all at once."""

    def __init__(self):
        self.fields = {}

    def add(self, question, message):
        self.fields.setdefault(f"answers.{question}", []).append(message)

    def raise_any(self):
        if self.fields:
            raise InvalidInput("The answers do not fit the survey.", self.fields)


def _refusal(q, value):
    """Why ``value`` does not answer question ``q`` (None when it does), and the value as stored."""
    if q["kind"] == "single":
        return (
            (None, value)
            if isinstance(value, str) and value in q["options"]
            else ("Not one of the options offered.", None)
        )
    if q["kind"] == "multiple":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "A list of options is expected.", None
        if len(set(value)) != len(value):
            return "An option is chosen twice.", None
        if any(v not in q["options"] for v in value):
            return "Not one of the options offered.", None
        return None, [o for o in q["options"] if o in value]  # the survey's order
    if q["kind"] == "scale":
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
            return "A whole number from 1 to 5 is expected.", None
        return None, value
    if not isinstance(value, str) or not value.strip():
        return "Text is expected.", None
    if len(value) > TEXT_ANSWER_MAX or "\x00" in value:
        return f"At most {TEXT_ANSWER_MAX} characters, and no NUL.", None
    return None, value


def checked_answers(questions, answers):
    """The answers as stored (only the questions answered), or InvalidInput naming each ``answers.<id>``
    that does not fit: an unknown question, a choice not offered, a scale value outside 1-5, text too long
    or blank, a required question unanswered."""
    refusals, stored = _Refusals(), {}
    known = {q["id"] for q in questions}
    for key in answers:
        if key not in known:
            refusals.add(key, "No such question in this survey.")
    for q in questions:
        value = answers.get(q["id"])
        if value is None or value == "" or value == []:
            if q["required"]:
                refusals.add(q["id"], "This question needs an answer.")
            continue
        refused, value = _refusal(q, value)
        if refused:
            refusals.add(q["id"], refused)
        else:
            stored[q["id"]] = value
    refusals.raise_any()
    return stored


def empty_results(questions):
    """The aggregate of no answers: per question how many answered, counts per option (a scale: per
    value), a scale's sum, free texts."""
    results = {"responses": 0, "questions": {}}
    for q in questions:
        keys = q["options"] if q["kind"] in CHOICE_KINDS else [str(v) for v in SCALE] if q["kind"] == "scale" else []
        results["questions"][q["id"]] = {"answered": 0, "counts": {k: 0 for k in keys}, "sum": 0, "texts": []}
    return results


def apply(results, questions, answers, anonymize=scrub):
    """``results`` with one more answer (a fact of the stream) counted in; free text anonymized."""
    results["responses"] += 1
    for q in questions:
        value = answers.get(q["id"])
        if value is None:
            continue
        agg = results["questions"][q["id"]]
        agg["answered"] += 1
        if q["kind"] == "single":
            agg["counts"][value] += 1
        elif q["kind"] == "multiple":
            for option in value:
                agg["counts"][option] += 1
        elif q["kind"] == "scale":
            agg["counts"][str(value)] += 1
            agg["sum"] += value
        else:
            agg["texts"].append(anonymize(value))
    return results


def fold(questions, facts, anonymize=scrub):
    """The results rebuilt from a survey's stream of facts (its answers in ``seq`` order)."""
    results = empty_results(questions)
    for answers in facts:
        apply(results, questions, answers, anonymize)
    return results


def results_view(survey_view, questions, results):
    """What the author reads: per question counts in the survey's order, a scale's mean, texts."""
    out = []
    for q in questions:
        agg = results["questions"][q["id"]]
        counts = [{"option": k, "count": n} for k, n in agg["counts"].items()]
        mean = round(agg["sum"] / agg["answered"], 2) if q["kind"] == "scale" and agg["answered"] else None
        out.append(
            {
                "id": q["id"],
                "kind": q["kind"],
                "text": q["text"],
                "answered": agg["answered"],
                "counts": counts,
                "mean": mean,
                "texts": list(agg["texts"]),
            }
        )
    return {"survey": survey_view, "responses": results["responses"], "questions": out}


# ---- running them ----------------------------------------------------------------------------


def _now():
    return datetime.now(timezone.utc)


def mentor_row(cur, user_id):
    cur.execute("SELECT accredited, rubrics FROM survey_mentors WHERE mentor_id = %s", (user_id,))
    return cur.fetchone()


def mentee_row(cur, user_id):
    cur.execute("SELECT rubrics FROM survey_mentees WHERE mentee_id = %s", (user_id,))
    return cur.fetchone()


def _reader(cur, actor):
    """The actor with what the audience rule needs of them (``known``): a mentor's ``survey_mentors`` row,
    a mentee's ``survey_mentees`` row, or None."""
    rows = {"mentor": mentor_row, "mentee": mentee_row}
    known = rows[actor["role"]](cur, actor["user_id"]) if actor["role"] in rows else None
    return {**actor, "known": known}


def mentors_may_create(cur):
    cur.execute("SELECT value FROM survey_settings WHERE name = %s", (SETTING_MENTORS_MAY_CREATE,))
    row = cur.fetchone()
    return bool(row and row["value"])


def settings_view(cur):
    return {"mentors_may_create": mentors_may_create(cur)}


def save_settings(cur, actor, settings):
    if actor["role"] != "moderator":
        raise Forbidden("Only moderators change who may create surveys.")
    cur.execute(
        "INSERT INTO survey_settings (name, value, changed_by) VALUES (%s, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, changed_by = EXCLUDED.changed_by, "
        "changed_at = now()",
        (SETTING_MENTORS_MAY_CREATE, Json(settings["mentors_may_create"]), actor["user_id"]),
    )
    return settings_view(cur)


def _may_create(cur, actor):
    if actor["role"] == "moderator":
        return
    if actor["role"] == "mentor" and mentors_may_create(cur):
        mentor = mentor_row(cur, actor["user_id"])
        if mentor is not None and mentor["accredited"]:
            return
        raise Forbidden("Only accredited mentors may create surveys.")
    raise Forbidden("Only moderators (and accredited mentors, when moderators allow it) create surveys.")


def _announce(cur, survey):
    """The one SurveyOpened of a survey whose period began (the outbox, in the caller's transaction)."""
    cur.execute(
        "UPDATE surveys SET announced_at = now() WHERE id = %s::uuid AND announced_at IS NULL RETURNING id",
        (survey["id"],),
    )
    if cur.fetchone() is None:
        return False
    outbox.append(
        cur,
        "library",
        "SurveyOpened",
        survey["id"],
        {
            "survey_id": survey["id"],
            "audience": survey["audience"],
            "rubrics": list(survey["rubrics"]),
            "closes_at": survey["closes_at"].isoformat(),
        },
    )
    return True


def create(cur, vault, actor, definition, request_key):
    """The new survey (or the one this request already created) as its author sees it; True when the
    SurveyOpened was written now (it opens at once). Its title and questions' texts are stored sealed with
    the author's key (services/library/sealing.py); the options stay plain: answers and results count them."""
    _may_create(cur, actor)
    now = _now()
    if definition["closes_at"] <= now:
        raise InvalidInput("The survey would never be open.", {"closes_at": ["Must be in the future."]})
    new_id = survey_id(actor, request_key)
    questions = numbered(definition["questions"])
    sealed = _sealed(cur, vault, actor["user_id"], definition["title"], questions)
    cur.execute(
        "INSERT INTO surveys (id, author_id, title, audience, rubrics, opens_at, closes_at, questions) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (
            new_id,
            actor["user_id"],
            sealed["title"],
            definition["audience"],
            definition["rubrics"],
            definition["opens_at"],
            definition["closes_at"],
            Json(sealed["questions"]),
        ),
    )
    if cur.fetchone() is not None:
        cur.execute(
            "INSERT INTO survey_results (survey_id, results) VALUES (%s, %s)", (new_id, Json(empty_results(questions)))
        )
    survey = _survey(cur, vault, new_id)
    announced = survey["opens_at"] <= now and _announce(cur, survey)
    return _view(cur, _reader(cur, actor), survey, now), announced


def announce_due(cur, limit=100):
    """Announce every survey whose period began and is not over (a timer): how many."""
    cur.execute(
        f"SELECT {SURVEY_COLUMNS} FROM surveys WHERE announced_at IS NULL AND opens_at <= now() "
        f"AND closes_at > now() ORDER BY opens_at LIMIT %s FOR UPDATE SKIP LOCKED",
        (limit,),
    )
    return sum(1 for survey in cur.fetchall() if _announce(cur, survey))


def _uuid_text(value):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFound(f"No survey {value}.") from None


def _sealed(cur, vault, author_id, title, questions):
    """``{"title", "questions"}`` as stored: sealed with the author's key (an id that names no person: plain)."""
    if not sealing.is_person(author_id):
        return {"title": title, "questions": questions}
    return {
        "title": vault.seal(cur, author_id, {"title": title}, texts=sealing.SURVEY_TEXTS)["title"],
        "questions": vault.seal_documents(cur, author_id, {"questions": questions})["questions"],
    }


def _survey(cur, vault, survey_id_, lock=False):
    """The survey, its author's texts opened (``[erased]`` once the author is erased)."""
    cur.execute(
        f"SELECT {SURVEY_COLUMNS} FROM surveys WHERE id = %s::uuid" + (" FOR UPDATE" if lock else ""),
        (_uuid_text(survey_id_),),
    )
    survey = cur.fetchone()
    if survey is None:
        raise NotFound(f"No survey {survey_id_}.")
    return vault.open_row(cur, survey)


def _answered(cur, survey_id_, user_id):
    cur.execute("SELECT 1 FROM survey_respondents WHERE survey_id = %s::uuid AND user_id = %s", (survey_id_, user_id))
    return cur.fetchone() is not None


def _responses(cur, survey_id_):
    cur.execute(
        "SELECT (results->>'responses')::int AS n FROM survey_results WHERE survey_id = %s::uuid", (survey_id_,)
    )
    row = cur.fetchone()
    return row["n"] if row else 0


def _reads_results(actor, survey):
    return actor["role"] == "moderator" or survey["author_id"] == actor["user_id"]


def _visible(reader, survey, now):
    """The author and moderators see a survey always; its audience once it opened."""
    return _reads_results(reader, survey) or (
        survey["opens_at"] <= now and in_audience(survey, reader["role"], reader["known"])
    )


def _view(cur, actor, survey, now):
    """The survey as ``actor`` (a ``_reader``) sees it."""
    own = survey["author_id"] == actor["user_id"]
    answered = _answered(cur, survey["id"], actor["user_id"])
    state = state_of(survey, now)
    known = actor["known"]  # a reader (_reader)
    return {
        "id": survey["id"],
        "title": survey["title"],
        "audience": survey["audience"],
        "rubrics": list(survey["rubrics"]),
        "opens_at": survey["opens_at"].isoformat(),
        "closes_at": survey["closes_at"].isoformat(),
        "state": state,
        "questions": survey["questions"],
        "created_at": survey["created_at"].isoformat(),
        "own": own,
        "answered": answered,
        "can_answer": state == "open" and not answered and in_audience(survey, actor["role"], known),
        "responses": _responses(cur, survey["id"]) if _reads_results(actor, survey) else None,
    }


def listing(cur, vault, actor):
    """Newest first: everything for a moderator; one's own and those open or closed for one's audience."""
    now, reader = _now(), _reader(cur, actor)
    cur.execute(f"SELECT {SURVEY_COLUMNS} FROM surveys ORDER BY created_at DESC, id LIMIT 500")
    visible = [s for s in cur.fetchall() if _visible(reader, s, now)]
    return [_view(cur, reader, s, now) for s in vault.open_rows(cur, visible)]


def readable(cur, vault, actor, survey_id_):
    survey, now, reader = _survey(cur, vault, survey_id_), _now(), _reader(cur, actor)
    if not _visible(reader, survey, now):
        raise NotFound(f"No survey {survey_id_}.")
    return _view(cur, reader, survey, now)


def answer(cur, vault, actor, survey_id_, answers):
    """Record one person's answer: a fact in the survey's stream, the running results, and that they
    answered (without the answer). InvalidInput names ``survey`` (not open, not asked, answered before)
    or ``answers.<id>``."""
    survey, now = _survey(cur, vault, survey_id_, lock=True), _now()  # one answer at a time per survey: seq, results
    known = _reader(cur, actor)["known"]
    if not _reads_results(actor, survey) and not in_audience(survey, actor["role"], known):
        raise NotFound(f"No survey {survey_id_}.")
    state = state_of(survey, now)
    if state != "open":
        raise InvalidInput(
            "The survey is not open.",
            {"survey": ["The survey has not opened yet." if state == "scheduled" else "The survey is closed."]},
        )
    if not in_audience(survey, actor["role"], known):
        raise InvalidInput("The survey is not for you.", {"survey": ["You are not in this survey's audience."]})
    stored = checked_answers(survey["questions"], answers)
    cur.execute(
        "INSERT INTO survey_respondents (survey_id, user_id) VALUES (%s::uuid, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (survey["id"], actor["user_id"]),
    )
    if cur.fetchone() is None:
        raise InvalidInput("You have answered this survey already.", {"survey": ["Already answered: once only."]})
    cur.execute(
        "INSERT INTO survey_answers (survey_id, seq, answers) SELECT %s::uuid, coalesce(max(seq), 0) + 1, %s "
        "FROM survey_answers WHERE survey_id = %s::uuid",
        (survey["id"], Json(stored), survey["id"]),
    )
    cur.execute("SELECT results FROM survey_results WHERE survey_id = %s::uuid", (survey["id"],))
    results = apply(cur.fetchone()["results"], survey["questions"], stored)
    cur.execute("UPDATE survey_results SET results = %s WHERE survey_id = %s::uuid", (Json(results), survey["id"]))
    return {"survey_id": survey["id"], "answered": True}


def results(cur, vault, actor, survey_id_):
    """The aggregates, for the author and moderators only (anyone else: 404, as for a survey not theirs)."""
    survey, now, reader = _survey(cur, vault, survey_id_), _now(), _reader(cur, actor)
    if not _reads_results(actor, survey):
        if _visible(reader, survey, now):
            raise Forbidden("Only the survey's author and moderators read its results.")
        raise NotFound(f"No survey {survey_id_}.")
    cur.execute("SELECT results FROM survey_results WHERE survey_id = %s::uuid", (survey["id"],))
    stored = cur.fetchone()["results"]
    return results_view(_view(cur, reader, survey, now), survey["questions"], stored)


def facts(cur, survey_id_):
    """A survey's stream of facts: its answers in ``seq`` order."""
    cur.execute("SELECT answers FROM survey_answers WHERE survey_id = %s::uuid ORDER BY seq", (survey_id_,))
    return [row["answers"] for row in cur.fetchall()]


def close_erased(cur, author_id):
    """The author was erased: their surveys not yet over close now (their title and questions read
    "[erased]": nobody could answer them meaningfully); the answers given stay, anonymous. Idempotent."""
    cur.execute(
        "UPDATE surveys SET closes_at = now(), opens_at = least(opens_at, now()) "
        "WHERE author_id = %s AND closes_at > now() RETURNING id::text",
        (str(author_id),),
    )
    return [row["id"] for row in cur.fetchall()]


def remember_mentor(cur, envelope):
    """Identity's MentorProfileUpdated (a v2 snapshot): the mentor's rubrics and accreditation, kept only
    when newer than what is stored (by identity's outbox position)."""
    p = envelope.payload
    cur.execute(
        "INSERT INTO survey_mentors (mentor_id, accredited, rubrics, source_position) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (mentor_id) DO UPDATE SET accredited = EXCLUDED.accredited, "
        "rubrics = EXCLUDED.rubrics, source_position = EXCLUDED.source_position "
        "WHERE survey_mentors.source_position < EXCLUDED.source_position",
        (p["mentor_id"], bool(p.get("accredited", False)), list(p.get("rubrics") or []), envelope.position),
    )


def remember_mentee(cur, envelope):
    """Identity's MenteeInterestsUpdated (a snapshot after each save of the questionnaire): the mentee's
    rubrics of interest, kept only when newer than what is stored (by identity's outbox position)."""
    p = envelope.payload
    cur.execute(
        "INSERT INTO survey_mentees (mentee_id, rubrics, source_position) VALUES (%s, %s, %s) "
        "ON CONFLICT (mentee_id) DO UPDATE SET rubrics = EXCLUDED.rubrics, source_position = EXCLUDED.source_position "
        "WHERE survey_mentees.source_position < EXCLUDED.source_position",
        (p["mentee_id"], list(p.get("rubrics") or []), envelope.position),
    )
