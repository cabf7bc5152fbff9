"""Clarifying questions learned from solved cases (issue #22 part 3): when a mentor opens a case to
ask questions, the questions other mentors asked in similar solved cases come first, then the
seed's hint bank (contracts/question_bank.py).

Why here, in the cases service, and not beside the library's similar cases
(services/library/similar.py): the questions asked live in the cases log, and so do the solved
cases whose author did not consent to publication; the library only ever receives consented,
published cases. Sending every case's questions to the library would put free text of
non-consenting cases into an event payload that does not need it. So the pool is a projection
of the cases' own log (``catch_up``, refolded per changed case from the aggregate, like
mentor_quality), kept in the cases database, and nothing of it leaves the service except
suggestions that are anonymized (services/common/anonymizer ``scrub``, at fold time) and
aggregated (see ``MIN_PRIVATE_CASES``).

The pool, per completed case: its rubrics and the stemmed words of its first form (essence,
difficulty, question: the text the mentor asked about), the outcome of the reflection sheet, and
each question asked: its group ``key`` (a bank hint: ``bank:<id>``; an own question: its anonymized
text normalised: lower case, ё as е, punctuation and spacing dropped, so near-identical questions
count together), its anonymized text, kind, and whether the answers to it led to a redefinition
(the author redefined the case after it was asked).

Suggesting (``suggest``)::

    similar cases = the NEIGHBOURS most similar solved cases at or above MIN_SIMILARITY, among the
                    CANDIDATES sharing a word with the case, best ts_rank first (shared
                    rubrics alone do not make a case similar)
    similarity    = TEXT_WEIGHT * text + RUBRIC_WEIGHT * rubric   (no rubrics: text alone)
    text          = min(1, idf of the shared words / (FULL_TEXT_SHARE * idf of the case's words)),
                    idf = ln((N + 1) / (cases with the word + 1)); words in more than
                    COMMON_SHARE of the pool are left out, like stop words (from COMMON_FROM
                    pooled cases on)
    rubric        = the case's rubrics the solved case shares / the case's rubrics
    group weight  = sum over its similar cases of similarity * OUTCOME[problem solved]
                    * (1 + REDEFINITION_BONUS if its answers led to a redefinition)

The best ``limit`` groups are suggested, each with its provenance (in how many similar solved
cases it was asked, in how many of them the problem was solved, partly solved, redefined), never a
case id, number or person; then the bank's hints fill the rest in the bank's order (the fallback,
and all there is while no solved case is similar).

Privacy (``MIN_PRIVATE_CASES``): an own question asked only in cases whose author did not consent
to publication is suggested only once it was asked in at least that many similar solved cases,
so a suggestion never carries one unpublished case's wording; bank hints are the seed's text.

Erasure (issue 19, part 3): the pool holds words of the author's form and the mentors' (anonymized)
questions, so when a person is erased the cases they wrote into are refolded (``forget``): their texts
now read ``[erased]`` (services/cases/sealing.py), which ``pool_record`` leaves out, so none of their
words, lexemes or questions remain; the rest of the case (rubrics, outcome, the others' questions) stays.

Usage: a suggestion has a stable id (``suggestion_id``: ``l-`` learned or ``b-`` bank, and a
digest of its group key). The asking command carries it per question; the service decides whether
the question was asked as is (its normalised text is the group's) or edited, and the QuestionsAsked
domain event records both (``suggestion_id``, ``suggestion_use``). The ``question_suggestion_uses``
table projects them for the moderators' figure (``usage``).
"""

import math
import re

from contracts.errors import Forbidden
from contracts.question_bank import (
    HINTS_BY_ID,
    QUESTION_BANK,
    SUGGESTION_PREFIXES,
    bank_key,
    bank_suggestion_id,
    suggestion_digest,
)
from contracts.vocabulary import PROBLEM_SOLVED
from services.cases import index
from services.common.anonymizer import scrub
from services.common.shredding import ERASED
from services.common.text_search import or_query

TS_CONFIG = "russian"  # Russian words stemmed, Latin-script ones by the English stemmer (stop words dropped)
TEXT_WEIGHT, RUBRIC_WEIGHT = 0.7, 0.3
FULL_TEXT_SHARE = 0.5
COMMON_SHARE = 0.25
COMMON_FROM = 40  # solved cases in the pool before its commonest words are left out
MIN_SIMILARITY = 0.2
NEIGHBOURS = 25
CANDIDATES = 200  # solved cases sharing a word, best ts_rank first, scored exactly
OUTCOME = {"yes": 1.0, "partly": 0.6, "no": 0.25}
REDEFINITION_BONUS = 0.5
MIN_PRIVATE_CASES = 2
DEFAULT_LIMIT = 5
MIN_TERM_LENGTH = 3
LEARNED, BANK = "learned", "bank"
AS_IS, EDITED = "as_is", "edited"
SUGGESTION_USES = (AS_IS, EDITED)
SUGGESTION_SOURCES = (LEARNED, BANK)
_PREFIX = {source: SUGGESTION_PREFIXES[source] for source in SUGGESTION_SOURCES}
_NOT_WORD = re.compile(r"[^\w\[\]]+")


# ---- pure pieces -----------------------------------------------------------------------------


def normalise(text):
    """A question's group key from its text: lower case, ё as е, punctuation and spacing dropped
    (anonymizer placeholders such as ``[person]`` kept)."""
    return _NOT_WORD.sub(" ", (text or "").lower().replace("ё", "е")).strip()


def question_key(bank_id, text):
    """The group of a question asked: its bank hint, or its (anonymized) text normalised."""
    return bank_key(bank_id) if bank_id else normalise(text)


def suggestion_id(source, key):
    return _PREFIX[source] + suggestion_digest(key)


def _keys_of(bank_id, text):
    """Every group key a question asked is the same question as: its own, and a bank hint's text
    typed out (a learned suggestion of a bank hint taken into a written field) is that hint, as a
    bank hint is its own text."""
    if bank_id:
        hint = HINTS_BY_ID.get(bank_id)
        return {bank_key(bank_id)} | ({normalise(hint.text)} if hint else set())
    asked = normalise(text)
    return {asked} | {bank_key(hint.id) for hint in HINTS_BY_ID.values() if normalise(hint.text) == asked}


def use_of(suggestion, bank_id, text):
    """``as_is`` when the question asked is the suggestion's (its bank hint, or the same text once
    normalised: ``_keys_of``), else ``edited``; None when no suggestion was used. Decided by the
    service, not the client, so a figure of usefulness cannot be claimed by a form."""
    if not suggestion:
        return None
    return AS_IS if suggestion[2:] in {suggestion_digest(key) for key in _keys_of(bank_id, text)} else EDITED


def source_of(suggestion):
    for source, prefix in _PREFIX.items():
        if suggestion and suggestion.startswith(prefix):
            return source
    return None


def similarity(shared, terms, idf, shared_rubrics, rubrics):
    """How similar a solved case is (module docstring): ``shared`` of the case's ``terms``,
    ``shared_rubrics`` of its ``rubrics``; ``idf``: each term's weight."""
    total = sum(idf.get(t, 0.0) for t in terms)
    text = min(1.0, sum(idf.get(t, 0.0) for t in shared) / (FULL_TEXT_SHARE * total)) if total > 0 else 0.0
    if not rubrics:
        return text
    return TEXT_WEIGHT * text + RUBRIC_WEIGHT * len(shared_rubrics) / len(rubrics)


def idf_weights(frequencies, pool_size):
    """``ln((N + 1) / (n + 1))`` for each term (``frequencies``: term -> cases holding it)."""
    return {t: math.log((pool_size + 1) / (n + 1)) for t, n in frequencies.items()}


def aggregate(neighbours, questions):
    """Groups of questions asked in the similar cases, best first.

    ``neighbours``: case id -> {similarity, problem_solved, publishes}; ``questions``: dicts with
    case_id, key, text, kind, bank_id, redefined. A group counts each case once (the case's best
    weight), shows the commonest wording, and is dropped if only unpublished cases asked it fewer
    than ``MIN_PRIVATE_CASES`` times (bank hints excepted)."""
    groups = {}
    for q in questions:
        case = neighbours.get(q["case_id"])
        if case is None or not q["key"]:
            continue
        weight = (
            case["similarity"]
            * OUTCOME.get(case["problem_solved"], OUTCOME["no"])
            * (1 + REDEFINITION_BONUS if q["redefined"] else 1)
        )
        group = groups.setdefault(
            q["key"], {"key": q["key"], "bank_id": q["bank_id"], "cases": {}, "texts": {}, "kinds": {}}
        )
        previous = group["cases"].get(q["case_id"])
        if previous is None or weight > previous[0]:
            group["cases"][q["case_id"]] = (weight, case["problem_solved"], q["redefined"], case["publishes"])
        group["texts"][q["text"]] = group["texts"].get(q["text"], 0) + 1
        group["kinds"][q["kind"]] = group["kinds"].get(q["kind"], 0) + 1
    ranked = []
    for group in groups.values():
        cases = group["cases"].values()
        if not group["bank_id"] and len(cases) < MIN_PRIVATE_CASES and not any(c[3] for c in cases):
            continue
        text = (
            HINTS_BY_ID[group["bank_id"]].text
            if group["bank_id"] in HINTS_BY_ID
            else max(group["texts"].items(), key=lambda item: (item[1], -len(item[0]), item[0]))[0]
        )
        ranked.append(
            {
                "id": suggestion_id(LEARNED, group["key"]),
                "source": LEARNED,
                "text": text,
                "kind": max(group["kinds"].items(), key=lambda item: (item[1], item[0]))[0],
                "bank_id": group["bank_id"],
                "score": round(sum(c[0] for c in cases), 4),
                "provenance": {
                    "cases": len(cases),
                    **{o: sum(1 for c in cases if c[1] == o) for o in PROBLEM_SOLVED},
                    "redefined": sum(1 for c in cases if c[2]),
                },
                "_key": group["key"],
            }
        )
    ranked.sort(key=lambda s: (-s["score"], -s["provenance"]["cases"], s["_key"]))
    return ranked


def bank_suggestions():
    """The seed's hints in the bank's order: today's suggestions, and the fallback."""
    return [
        {
            "id": bank_suggestion_id(hint.id),
            "source": BANK,
            "text": hint.text,
            "kind": group.kind,
            "bank_id": hint.id,
            "score": 0.0,
            "provenance": None,
            "_key": question_key(hint.id, None),
        }
        for group in QUESTION_BANK
        for hint in group.hints
    ]


def with_fallback(learned, limit):
    """The best ``limit`` learned suggestions, the bank's hints filling the rest (none twice)."""
    chosen = learned[:limit]
    seen = {s["_key"] for s in chosen}
    chosen += [s for s in bank_suggestions() if s["_key"] not in seen][: limit - len(chosen)]
    return [{k: v for k, v in s.items() if k != "_key"} for s in chosen]


def pool_record(case):
    """What the pool keeps of a completed case (an aggregate, or anything with its attributes):
    None for a case not completed. Question texts are anonymized here, once."""
    if case.state != "completed" or not case.reflection:
        return None
    first = case.revisions[0]
    revisions = len(case.revisions)
    questions = []
    for q in case.questions:
        if q.get("bank_id") not in HINTS_BY_ID and _erased(q.get("text")):
            continue  # its writer was erased: nothing of it is kept
        text = HINTS_BY_ID[q["bank_id"]].text if q.get("bank_id") in HINTS_BY_ID else scrub(q["text"])
        questions.append(
            {
                "key": question_key(q.get("bank_id"), text),
                "text": text,
                "kind": q["kind"],
                "bank_id": q.get("bank_id"),
                "redefined": revisions > q.get("revision", revisions),
            }
        )
    return {
        "rubrics": list(first.get("rubrics") or ()),
        "problem_solved": case.reflection.get("problem_solved"),
        "publishes": bool(case.publishes),
        "questions": questions,
        "text": case_text(first),
    }


def _erased(text):
    return text == ERASED


def uses_of(case):
    """The questions of a case asked from a suggestion: (question id, source, use, asked_at)."""
    return [
        (q["id"], source_of(q.get("suggestion_id")), q.get("suggestion_use"), q.get("asked_at"))
        for q in case.questions
        if q.get("suggestion_id")
    ]


# ---- the projection (cases service) ----------------------------------------------------------

RELAY = "question-pool"


def lexemes_of(cur, text):
    """The distinct stemmed words of a text (short ones and numbers left out)."""
    cur.execute(
        f"SELECT coalesce(array_agg(lexeme ORDER BY lexeme), '{{}}') AS lexemes "
        f"FROM unnest(to_tsvector('{TS_CONFIG}', %s)) WHERE length(lexeme) >= %s AND lexeme !~ '^[0-9]+$'",
        (text or "", MIN_TERM_LENGTH),
    )
    return list(cur.fetchone()["lexemes"])


def store(cur, case_id, record, completed_at):
    """Put one case's pool record in place of what the pool held of it (None: remove it).
    Idempotent: storing the same record twice leaves the same rows and word counts."""
    cur.execute("DELETE FROM question_pool_cases WHERE case_id = %s RETURNING lexemes", (case_id,))
    old = cur.fetchone()
    if old is not None:
        cur.execute("UPDATE question_pool_lexemes SET cases = cases - 1 WHERE lexeme = ANY(%s)", (old["lexemes"],))
        # a word no pooled case holds any more is no one's (an erased author's words leave with them)
        cur.execute("DELETE FROM question_pool_lexemes WHERE cases <= 0 AND lexeme = ANY(%s)", (old["lexemes"],))
    cur.execute("DELETE FROM question_pool_questions WHERE case_id = %s", (case_id,))
    if record is None:
        return
    lexemes = lexemes_of(cur, record["text"])
    cur.execute(
        "INSERT INTO question_pool_cases (case_id, rubrics, lexemes, search, problem_solved, publishes, "
        "completed_at) VALUES (%s, %s, %s, array_to_tsvector(%s::text[]), %s, %s, %s)",
        (case_id, record["rubrics"], lexemes, lexemes, record["problem_solved"], record["publishes"], completed_at),
    )
    cur.execute(
        "INSERT INTO question_pool_lexemes (lexeme, cases) SELECT l, 1 FROM unnest(%s::text[]) l "
        "ON CONFLICT (lexeme) DO UPDATE SET cases = question_pool_lexemes.cases + 1",
        (lexemes,),
    )
    for seq, q in enumerate(record["questions"]):
        cur.execute(
            "INSERT INTO question_pool_questions (case_id, seq, key, text, kind, bank_id, redefined) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (case_id, seq, q["key"], q["text"], q["kind"], q["bank_id"], q["redefined"]),
        )


def store_uses(cur, case_id, uses):
    for question_id, source, use, asked_at in uses:
        if source in SUGGESTION_SOURCES and use in SUGGESTION_USES:
            cur.execute(
                "INSERT INTO question_suggestion_uses (question_id, case_id, source, use, asked_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (question_id) DO NOTHING",
                (question_id, case_id, source, use, asked_at),
            )


def _refold(cur, app, notifications):
    """Each case the batch touched, read again whole: its pool record replaced, its uses added
    (exact and idempotent: a batch folded twice writes the same rows)."""
    for case_id in {n.originator_id for n in notifications}:
        case = app.get_case(case_id)
        store(cur, case_id, pool_record(case), case.modified_on)
        store_uses(cur, case_id, uses_of(case))


def forget(cur, app, case_ids):
    """Refold the pool records of the cases an erased person wrote into (called after their key is
    erased, so their texts load as ``[erased]`` and are left out); idempotent. A fold of the log under
    way (``catch_up``, which may have read the cases before the erasure) is waited for first: it holds
    the projection's position row, which this takes too."""
    cur.execute("SELECT position FROM relay_position WHERE relay = %s FOR UPDATE", (RELAY,))
    for case_id in case_ids:
        case = app.get_case(case_id)
        store(cur, case_id, pool_record(case), case.modified_on)


def catch_up(db, app, batch=500, wait=False):
    """Fold the log past the projection's position (index.fold_log)."""
    return index.fold_log(db, app, RELAY, _refold, batch, wait)


def require_asker(case, actor):
    """The case's mentor (who asks its questions) and moderators see its suggestions."""
    if actor["role"] == "moderator" or case.is_chosen_mentor(actor["user_id"]):
        return
    raise Forbidden("Only the case's mentor gets question suggestions.")


def similar_cases(cur, text, rubrics, exclude_case_id=None):
    """The NEIGHBOURS most similar solved cases: case id -> {similarity, problem_solved, publishes}."""
    terms = lexemes_of(cur, text)
    cur.execute("SELECT count(*) AS n FROM question_pool_cases")
    size = cur.fetchone()["n"]
    if not size:
        return {}
    cur.execute("SELECT lexeme, cases FROM question_pool_lexemes WHERE lexeme = ANY(%s) AND cases > 0", (terms,))
    frequencies = {row["lexeme"]: row["cases"] for row in cur.fetchall()}
    common = COMMON_SHARE * size if size >= COMMON_FROM else size  # a small pool: idf alone weighs them
    rare = [t for t in terms if frequencies.get(t, 0) <= common]
    idf = idf_weights({t: frequencies.get(t, 0) for t in rare}, size)
    if not rare:  # shared rubrics alone do not make a case similar
        return {}
    cur.execute(
        "SELECT case_id::text, problem_solved, publishes, lexemes, rubrics FROM question_pool_cases "
        "WHERE search @@ %(query)s::tsquery AND case_id IS DISTINCT FROM %(exclude)s::uuid "
        "ORDER BY ts_rank(search, %(query)s::tsquery) DESC, completed_at DESC LIMIT %(limit)s",
        {"query": or_query(rare), "exclude": exclude_case_id, "limit": CANDIDATES},
    )
    scored = []
    wanted, asked_rubrics = set(rare), list(rubrics)
    for row in cur.fetchall():
        value = similarity(
            wanted.intersection(row["lexemes"]),
            rare,
            idf,
            [r for r in asked_rubrics if r in row["rubrics"]],
            asked_rubrics,
        )
        if value >= MIN_SIMILARITY:
            scored.append((value, row["case_id"], row))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return {
        case_id: {"similarity": value, "problem_solved": row["problem_solved"], "publishes": row["publishes"]}
        for value, case_id, row in scored[:NEIGHBOURS]
    }


def suggest(cur, text, rubrics, exclude_case_id=None, limit=DEFAULT_LIMIT):
    """Suggestions for a case (its text and rubrics), learned first, the bank filling the rest."""
    neighbours = similar_cases(cur, text, rubrics, exclude_case_id)
    questions = []
    if neighbours:
        cur.execute(
            "SELECT case_id::text, key, text, kind, bank_id, redefined FROM question_pool_questions "
            "WHERE case_id = ANY(%s::uuid[])",
            (list(neighbours),),
        )
        questions = cur.fetchall()
    return with_fallback(aggregate(neighbours, questions), limit)


def case_text(form):
    """The words of a form the pool and the suggestions compare (an erased author's: none)."""
    return " ".join(form.get(f) or "" for f in ("essence", "difficulty", "question") if not _erased(form.get(f)))


def usage(cur):
    """The moderators' figure of usefulness: questions asked from suggestions, by source and use,
    beside all questions asked; and the outcome of the completed cases that used them."""
    cur.execute("SELECT source, use, count(*) AS n FROM question_suggestion_uses GROUP BY 1, 2")
    counts = {(row["source"], row["use"]): row["n"] for row in cur.fetchall()}
    cur.execute(
        "SELECT u.source, p.problem_solved, count(DISTINCT u.case_id) AS n FROM question_suggestion_uses u "
        "JOIN question_pool_cases p USING (case_id) GROUP BY 1, 2"
    )
    outcomes = {(row["source"], row["problem_solved"]): row["n"] for row in cur.fetchall()}
    cur.execute("SELECT coalesce(sum(clarifying_questions + developing_questions), 0) AS n FROM case_index")
    return {
        "questions_asked": cur.fetchone()["n"],
        **{
            source: {
                **{use: counts.get((source, use), 0) for use in SUGGESTION_USES},
                "completed_cases": {o: outcomes.get((source, o), 0) for o in PROBLEM_SOLVED},
            }
            for source in SUGGESTION_SOURCES
        },
    }
