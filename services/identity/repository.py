"""SQL of the identity service; every function runs in the caller's transaction (cursor).

Functions given the ``vault`` (services/identity/sealing.py) seal the personal fields they write and
open those they read: their callers see plaintext, the tables hold sealed text."""

import json

import psycopg2

from services.identity.sealing import (
    APPLICATION_TEXTS,
    EMAIL_TEXTS,
    PHOTO_BYTES,
    PROFILE_LISTS,
    PROFILE_TEXTS,
    QUESTIONNAIRE_LISTS,
    QUESTIONNAIRE_TEXTS,
    USER_TEXTS,
)

_PROFILE_COLUMNS = (
    "u.first_name, u.last_name, u.patronymic, p.mentor_id, p.rubrics, p.place_of_work, "
    "p.institute, p.position, p.interests, p.links, p.motto, p.accepting_cases, p.updated_at, "
    "a.state AS accreditation_state, ph.etag AS photo_etag"
)
_PROFILE_FROM = (
    "mentor_profiles p JOIN users u ON u.id = p.mentor_id AND u.role = 'mentor' "
    "LEFT JOIN accreditations a ON a.mentor_id = p.mentor_id "
    "LEFT JOIN mentor_photos ph ON ph.mentor_id = p.mentor_id"
)


def _by_name(rows):
    """The public list's order (last name, first name, id): in Python, as the names are sealed."""
    return sorted(rows, key=lambda r: (r["last_name"], r["first_name"], str(r["mentor_id"])))


def insert_user(cur, vault, user):
    """Insert a new account, its personal fields sealed; returns its row (opened), or None if the e-mail
    is taken. Registrations of one address wait for each other (an advisory lock on its index), so a
    row written before sealing, found by its plain e-mail, counts as taken too."""
    index = vault.email_index(user["email"])
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("email:" + index,))
    if user_by_email(cur, vault, user["email"]) is not None:
        return None
    sealed = vault.seal(cur, user["id"], user, texts=USER_TEXTS)
    cur.execute(
        "INSERT INTO users (id, email, email_index, password_hash, role, first_name, last_name, patronymic, "
        "created_at, email_verified_at) VALUES (%(id)s, %(email)s, %(email_index)s, %(password_hash)s, %(role)s, "
        "%(first_name)s, %(last_name)s, %(patronymic)s, %(created_at)s, %(email_verified_at)s) "
        "ON CONFLICT (email_index) DO NOTHING RETURNING *",
        dict(sealed, email_index=index, email_verified_at=user.get("email_verified_at")),
    )
    return vault.open_row(cur, cur.fetchone())


def mark_email_verified(cur, user_id):
    cur.execute("UPDATE users SET email_verified_at = now() WHERE id = %s AND email_verified_at IS NULL", (user_id,))
    return cur.rowcount


def user_by_email(cur, vault, email):
    """The account of a (normalized) e-mail, opened: by its blind index, or by the plain e-mail of a row
    written before sealing; never an erased account."""
    cur.execute(
        "SELECT * FROM users WHERE email_index = %s "
        "OR (email_index IS NULL AND erased_at IS NULL AND email = %s) LIMIT 1",
        (vault.email_index(email), email),
    )
    return vault.open_row(cur, cur.fetchone())


def user_by_id(cur, user_id, lock=False, vault=None):
    """The account's row; its personal fields opened when given the ``vault`` (else as stored: enough
    for its role and states)."""
    cur.execute("SELECT * FROM users WHERE id = %s" + (" FOR UPDATE" if lock else ""), (user_id,))
    row = cur.fetchone()
    return row if vault is None else vault.open_row(cur, row)


def replace_password_hash(cur, user_id, old_hash, new_hash):
    cur.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s AND password_hash = %s", (new_hash, user_id, old_hash)
    )


def set_password_hash(cur, user_id, new_hash):
    cur.execute("UPDATE users SET password_hash = %s WHERE id = %s", (new_hash, user_id))


# ---- sessions ------------------------------------------------------------------------------


def insert_session(cur, session_id, user_id, ttl_seconds):
    cur.execute(
        "INSERT INTO sessions (id, user_id, expires_at) VALUES (%s, %s, now() + make_interval(secs => %s))",
        (session_id, user_id, ttl_seconds),
    )
    # a user's ended sessions are of no use any more: pruned as they sign in again
    cur.execute(
        "DELETE FROM sessions WHERE user_id = %s AND (expires_at < now() OR revoked_at < now() - interval '1 day')",
        (user_id,),
    )


def live_session(cur, session_id):
    """The session's user, role and whether the e-mail is verified, when the session is neither
    revoked nor expired; else None."""
    cur.execute(
        "SELECT s.user_id, u.role, u.email_verified_at IS NOT NULL AS email_verified "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.id = %s AND s.revoked_at IS NULL AND s.expires_at > now()",
        (session_id,),
    )
    return cur.fetchone()


def revoke_session(cur, session_id, user_id):
    """The ids of the sessions revoked: this one, unless it ended before."""
    cur.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = %s AND user_id = %s AND revoked_at IS NULL "
        "RETURNING id::text AS id",
        (session_id, user_id),
    )
    return [row["id"] for row in cur.fetchall()]


def revoke_all_sessions(cur, user_id):
    """The ids of the user's live sessions, revoked now."""
    cur.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL "
        "AND expires_at > now() RETURNING id::text AS id",
        (user_id,),
    )
    return [row["id"] for row in cur.fetchall()]


def revoke_other_sessions(cur, user_id, keep_session_id):
    """The ids of the user's live sessions but ``keep_session_id``, revoked now."""
    cur.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND id <> %s AND revoked_at IS NULL "
        "AND expires_at > now() RETURNING id::text AS id",
        (user_id, keep_session_id),
    )
    return [row["id"] for row in cur.fetchall()]


def revoked_live_sessions(cur):
    """The ids of the revoked sessions whose tokens have not expired yet (a gateway refuses those)."""
    cur.execute("SELECT id::text AS id FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > now()")
    return [row["id"] for row in cur.fetchall()]


def recently_verified(cur, seconds):
    """The accounts whose e-mail was verified within ``seconds`` (a token's lifetime): id, role."""
    cur.execute(
        "SELECT id::text AS user_id, role, true AS email_verified FROM users "
        "WHERE email_verified_at > now() - make_interval(secs => %s)",
        (seconds,),
    )
    return cur.fetchall()


# ---- sign-in failures (services/identity/throttle.py decides) -------------------------------


def lock_keys(cur, keys):
    """Serialize attempts on the same keys across processes, for this transaction (sorted: no deadlock)."""
    for key in sorted(keys):
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("sign-in:" + key,))


def failure_times(cur, keys, window_seconds):
    """``(now, {key: [epoch seconds]})``: the database's clock, and each key's failures in the window."""
    cur.execute("SELECT extract(epoch FROM now())::float8 AS now")
    now = cur.fetchone()["now"]
    cur.execute(
        "SELECT key, extract(epoch FROM at)::float8 AS at FROM sign_in_failures "
        "WHERE key = ANY(%s) AND at > now() - make_interval(secs => %s)",
        (list(keys), window_seconds),
    )
    found = {}
    for row in cur.fetchall():
        found.setdefault(row["key"], []).append(row["at"])
    return now, found


def insert_failures(cur, keys, retention_seconds):
    """Count an attempt as failed for every key (before its password is checked, so concurrent
    attempts see each other); returns the row ids, to be deleted when the password is right.
    Rows older than ``retention_seconds`` (the longest window of any key) are pruned."""
    cur.execute("DELETE FROM sign_in_failures WHERE at < now() - make_interval(secs => %s)", (retention_seconds,))
    ids = []
    for key in keys:
        cur.execute("INSERT INTO sign_in_failures (key) VALUES (%s) RETURNING id", (key,))
        ids.append(cur.fetchone()["id"])
    return ids


def forget_failures(cur, failure_ids, keys=()):
    """The attempt succeeded: it was no failure; a right password also clears ``keys``' counts (the
    account's, and the account's from this address)."""
    cur.execute("DELETE FROM sign_in_failures WHERE id = ANY(%s)", (list(failure_ids),))
    if keys:
        cur.execute("DELETE FROM sign_in_failures WHERE key = ANY(%s)", (list(keys),))


def claim_alert(cur, user_id, window_seconds):
    """True once per burst: when the owner was not told of failed sign-ins within the window."""
    cur.execute(
        "INSERT INTO sign_in_alerts (user_id, alerted_at) VALUES (%s, now()) ON CONFLICT (user_id) "
        "DO UPDATE SET alerted_at = now() WHERE sign_in_alerts.alerted_at < now() - make_interval(secs => %s) "
        "RETURNING user_id",
        (user_id, window_seconds),
    )
    return cur.fetchone() is not None


# ---- one-time links (services/identity/recovery.py): only the token's sha256 is stored -----------


def insert_token(cur, token_hash, user_id, purpose, ttl_seconds):
    cur.execute(
        "INSERT INTO account_tokens (token_hash, user_id, purpose, expires_at) "
        "VALUES (%s, %s, %s, now() + make_interval(secs => %s))",
        (token_hash, user_id, purpose, ttl_seconds),
    )
    cur.execute(
        "DELETE FROM account_tokens WHERE user_id = %s AND (expires_at < now() - interval '1 day' "
        "OR used_at < now() - interval '1 day')",
        (user_id,),
    )


def live_tokens(cur, user_id, purpose):
    """How many links of ``purpose`` the user has that still work."""
    cur.execute(
        "SELECT count(*) AS n FROM account_tokens WHERE user_id = %s AND purpose = %s AND used_at IS NULL "
        "AND expires_at > now()",
        (user_id, purpose),
    )
    return cur.fetchone()["n"]


def use_token(cur, vault, token_hash, purpose):
    """Mark an unused, unexpired token of ``purpose`` used; its user's row (locked, opened), or None."""
    cur.execute(
        "UPDATE account_tokens SET used_at = now() WHERE token_hash = %s AND purpose = %s "
        "AND used_at IS NULL AND expires_at > now() RETURNING user_id",
        (token_hash, purpose),
    )
    found = cur.fetchone()
    return None if found is None else user_by_id(cur, found["user_id"], lock=True, vault=vault)


def use_all_tokens(cur, user_id, purpose):
    """Every other link of the kind is void too (one verification, one reset, is enough)."""
    cur.execute(
        "UPDATE account_tokens SET used_at = now() WHERE user_id = %s AND purpose = %s AND used_at IS NULL",
        (user_id, purpose),
    )


# ---- identity's own e-mails about accounts (sent by IdentityService.send_account_emails) --------


def enqueue_email(cur, vault, user_id, recipient, kind, subject, body):
    """An account e-mail, its recipient and body (which names the person) sealed with their key."""
    sealed = vault.seal(cur, user_id, {"recipient": recipient, "body": body}, texts=EMAIL_TEXTS)
    cur.execute(
        "INSERT INTO account_email_outbox (user_id, recipient, kind, subject, body) "
        "VALUES (%s, %s, %s, %s, %s) RETURNING id::text AS id",
        (user_id, sealed["recipient"], kind, subject, sealed["body"]),
    )
    return cur.fetchone()["id"]


def emailed_recently(cur, user_id, kind, seconds):
    """Whether an account e-mail of ``kind`` to the user was written within the last ``seconds``."""
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM account_email_outbox WHERE user_id = %s AND kind = %s "
        "AND created_at > now() - make_interval(secs => %s)) AS found",
        (user_id, kind, seconds),
    )
    return cur.fetchone()["found"]


def claim_due_emails(cur, vault, limit, lease_seconds):
    """The due rows for one attempt: counted now, hidden from other senders for the lease."""
    cur.execute(
        """
        UPDATE account_email_outbox SET attempts = attempts + 1,
               next_attempt_at = now() + make_interval(secs => %s)
        WHERE id IN (SELECT id FROM account_email_outbox WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, user_id, recipient, kind, subject, body, attempts, created_at""",
        (lease_seconds, limit),
    )
    return sorted(vault.open_rows(cur, cur.fetchall()), key=lambda r: r["created_at"])


def email_sent(cur, row_id):
    """Sent: the body (which may hold a link) is blanked."""
    cur.execute(
        "UPDATE account_email_outbox SET status = 'sent', sent_at = now(), body = '', last_error = NULL WHERE id = %s",
        (row_id,),
    )


def email_failed_attempt(cur, row_id, error, give_up, retry_seconds):
    """Retry after ``retry_seconds``, or give up (the body blanked: the link is of no use any more)."""
    if give_up:
        cur.execute(
            "UPDATE account_email_outbox SET status = 'failed', body = '', last_error = %s WHERE id = %s",
            (error[:1000], row_id),
        )
    else:
        cur.execute(
            "UPDATE account_email_outbox SET next_attempt_at = now() + make_interval(secs => %s), "
            "last_error = %s WHERE id = %s",
            (retry_seconds, error[:1000], row_id),
        )


def upsert_profile(cur, vault, mentor_id, profile):
    profile = vault.seal(cur, mentor_id, profile, texts=PROFILE_TEXTS, lists=PROFILE_LISTS)
    cur.execute(
        "INSERT INTO mentor_profiles (mentor_id, rubrics, place_of_work, institute, position, interests, "
        "links, motto, accepting_cases, updated_at) VALUES (%(mentor_id)s, %(rubrics)s, %(place_of_work)s, "
        "%(institute)s, %(position)s, %(interests)s, %(links)s, %(motto)s, %(accepting_cases)s, now()) "
        "ON CONFLICT (mentor_id) DO UPDATE SET rubrics = EXCLUDED.rubrics, "
        "place_of_work = EXCLUDED.place_of_work, institute = EXCLUDED.institute, "
        "position = EXCLUDED.position, interests = EXCLUDED.interests, links = EXCLUDED.links, "
        "motto = EXCLUDED.motto, accepting_cases = EXCLUDED.accepting_cases, updated_at = now()",
        dict(profile, mentor_id=mentor_id),
    )


def profile(cur, vault, mentor_id):
    cur.execute(f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} WHERE p.mentor_id = %s", (mentor_id,))
    return vault.open_row(cur, cur.fetchone())


def accredited_profiles(cur, vault, rubric=None):
    """The public list: accredited mentors only (not pending, rejected or suspended), by name."""
    where = "WHERE a.state = 'accredited'"
    if rubric is None:
        cur.execute(f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} {where}")
    else:
        cur.execute(
            f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} {where} AND p.rubrics @> ARRAY[%s]::text[]",
            (rubric,),
        )
    return _by_name(vault.open_rows(cur, cur.fetchall()))


def profiles_by_ids(cur, vault, mentor_ids):
    if not mentor_ids:
        return []
    cur.execute(
        f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} WHERE p.mentor_id = ANY(%s::uuid[])", (list(mentor_ids),)
    )
    return vault.open_rows(cur, cur.fetchall())


_QUESTIONNAIRE_COLUMNS = (
    "school, subjects, forms_taught, years_of_practice, graduation_year, "
    "graduation_institute, workload_hours_per_week, rubrics, updated_at"
)


def upsert_questionnaire(cur, vault, user_id, questionnaire):
    questionnaire = vault.seal(cur, user_id, questionnaire, texts=QUESTIONNAIRE_TEXTS, lists=QUESTIONNAIRE_LISTS)
    cur.execute(
        "INSERT INTO questionnaires (user_id, school, subjects, forms_taught, years_of_practice, "
        "graduation_year, graduation_institute, workload_hours_per_week, rubrics, updated_at) VALUES (%(user_id)s, "
        "%(school)s, %(subjects)s, %(forms_taught)s::integer[], %(years_of_practice)s, %(graduation_year)s, "
        "%(graduation_institute)s, %(workload_hours_per_week)s, %(rubrics)s::text[], now()) "
        "ON CONFLICT (user_id) DO UPDATE SET school = EXCLUDED.school, subjects = EXCLUDED.subjects, "
        "forms_taught = EXCLUDED.forms_taught, years_of_practice = EXCLUDED.years_of_practice, "
        "graduation_year = EXCLUDED.graduation_year, graduation_institute = EXCLUDED.graduation_institute, "
        "workload_hours_per_week = EXCLUDED.workload_hours_per_week, rubrics = EXCLUDED.rubrics, updated_at = now() "
        f"RETURNING {_QUESTIONNAIRE_COLUMNS}",
        dict(questionnaire, user_id=user_id),
    )
    return vault.open_row(cur, cur.fetchone())


def questionnaire(cur, vault, user_id):
    cur.execute(f"SELECT {_QUESTIONNAIRE_COLUMNS} FROM questionnaires WHERE user_id = %s", (user_id,))
    return vault.open_row(cur, cur.fetchone())


# ---- photos --------------------------------------------------------------------------------


def upsert_photo(cur, vault, mentor_id, content_type, data, etag):
    data = vault.seal(cur, mentor_id, {"data": data}, blobs=PHOTO_BYTES)["data"]
    cur.execute(
        "INSERT INTO mentor_photos (mentor_id, content_type, data, etag, updated_at) VALUES (%s, %s, %s, %s, now()) "
        "ON CONFLICT (mentor_id) DO UPDATE SET content_type = EXCLUDED.content_type, data = EXCLUDED.data, "
        "etag = EXCLUDED.etag, updated_at = now() RETURNING content_type, data, etag",
        (mentor_id, content_type, psycopg2.Binary(data), etag),
    )
    return vault.open_row(cur, cur.fetchone())


def photo(cur, vault, mentor_id):
    """A mentor's photo; only of a mentor account with a profile (the photo is part of the profile)."""
    cur.execute(
        "SELECT ph.content_type, ph.data, ph.etag FROM mentor_photos ph "
        "JOIN mentor_profiles p ON p.mentor_id = ph.mentor_id "
        "JOIN users u ON u.id = ph.mentor_id AND u.role = 'mentor' WHERE ph.mentor_id = %s",
        (mentor_id,),
    )
    return vault.open_row(cur, cur.fetchone())


# ---- availability --------------------------------------------------------------------------


def upsert_availability(cur, mentor_id, capacity, away_periods):
    cur.execute(
        "INSERT INTO mentor_availability (mentor_id, capacity, away_periods, updated_at) "
        "VALUES (%s, %s, %s, now()) ON CONFLICT (mentor_id) DO UPDATE SET capacity = EXCLUDED.capacity, "
        "away_periods = EXCLUDED.away_periods, updated_at = now() RETURNING capacity, away_periods, updated_at",
        (mentor_id, capacity, json.dumps(away_periods)),
    )
    return cur.fetchone()


def availability(cur, mentor_id):
    cur.execute("SELECT capacity, away_periods, updated_at FROM mentor_availability WHERE mentor_id = %s", (mentor_id,))
    return cur.fetchone()


# ---- the MentorProfileUpdated snapshot -----------------------------------------------------


def mentor_snapshot(cur, mentor_id):
    """``(profile or None, accreditation state or None, availability or None)`` of one mentor."""
    cur.execute("SELECT rubrics, accepting_cases FROM mentor_profiles WHERE mentor_id = %s", (mentor_id,))
    profile_row = cur.fetchone()
    roll = accreditation(cur, mentor_id)
    return profile_row, roll["state"] if roll else None, availability(cur, mentor_id)


# ---- the roll of mentors -------------------------------------------------------------------

_APPLICATION_COLUMNS = "id, mentor_id, state, experience, motivation, submitted_at, decided_at, decided_by, reason"


def accreditation(cur, mentor_id, lock=False):
    cur.execute(
        "SELECT mentor_id, state, reason, updated_at FROM accreditations WHERE mentor_id = %s"
        + (" FOR UPDATE" if lock else ""),
        (mentor_id,),
    )
    return cur.fetchone()


def set_accreditation(cur, mentor_id, state, reason=""):
    cur.execute(
        "INSERT INTO accreditations (mentor_id, state, reason, updated_at) VALUES (%s, %s, %s, now()) "
        "ON CONFLICT (mentor_id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason, updated_at = now() "
        "RETURNING mentor_id, state, reason, updated_at",
        (mentor_id, state, reason or ""),
    )
    return cur.fetchone()


def insert_application(cur, vault, application_id, mentor_id, experience, motivation):
    texts = vault.seal(cur, mentor_id, {"experience": experience, "motivation": motivation}, texts=APPLICATION_TEXTS)
    cur.execute(
        f"INSERT INTO accreditation_applications (id, mentor_id, state, experience, motivation) "
        f"VALUES (%s, %s, 'pending', %s, %s) RETURNING {_APPLICATION_COLUMNS}",
        (application_id, mentor_id, texts["experience"], texts["motivation"]),
    )
    return vault.open_row(cur, cur.fetchone())


def application(cur, vault, application_id, lock=False):
    cur.execute(
        f"SELECT {_APPLICATION_COLUMNS} FROM accreditation_applications WHERE id = %s"
        + (" FOR UPDATE" if lock else ""),
        (application_id,),
    )
    return vault.open_row(cur, cur.fetchone())


def latest_application(cur, vault, mentor_id):
    cur.execute(
        f"SELECT {_APPLICATION_COLUMNS} FROM accreditation_applications WHERE mentor_id = %s "
        "ORDER BY submitted_at DESC, id DESC LIMIT 1",
        (mentor_id,),
    )
    return vault.open_row(cur, cur.fetchone())


def decide_application(cur, vault, application_id, state, moderator_id, reason):
    cur.execute(
        f"UPDATE accreditation_applications SET state = %s, decided_at = now(), decided_by = %s, "
        f"reason = %s WHERE id = %s RETURNING {_APPLICATION_COLUMNS}",
        (state, moderator_id, reason or None, application_id),
    )
    return vault.open_row(cur, cur.fetchone())


def applications(cur, vault, state):
    """Applications in one state, the oldest first (as they wait for review)."""
    cur.execute(
        f"SELECT {_APPLICATION_COLUMNS} FROM accreditation_applications WHERE state = %s ORDER BY submitted_at, id",
        (state,),
    )
    return vault.open_rows(cur, cur.fetchall())


def record_history(cur, mentor_id, application_id, action, reason, actor_id):
    cur.execute(
        "INSERT INTO accreditation_history (mentor_id, application_id, action, reason, actor_id) "
        "VALUES (%s, %s, %s, %s, %s)",
        (mentor_id, application_id, action, reason or "", actor_id),
    )


def history(cur, mentor_id):
    cur.execute(
        "SELECT application_id, action, reason, actor_id, at FROM accreditation_history "
        "WHERE mentor_id = %s ORDER BY id",
        (mentor_id,),
    )
    return cur.fetchall()


# ---- erasure (services/identity/erasure.py decides) ------------------------------------------


def _erased_unless_sealed(column):
    """A column's value after erasure: sealed text stays (unreadable without the key); plaintext written
    before sealing, not yet sealed by the data pass, is overwritten."""
    return f"{column} = CASE WHEN starts_with({column}, 'shred:') OR {column} = '' THEN {column} ELSE '[erased]' END"


def erase_account(cur, user_id, requested_by, moderator_id, reason):
    """Close the account for good, in the caller's transaction (its row locked): what serves only the
    person goes (one-time links, account e-mails, the sign-in alert, questionnaire, mentor profile, photo
    and availability); the row stays for other services' references, without a password or an e-mail
    index (no sign-in, the address free again), its sealed fields unreadable once the key goes
    (``shredding.erase_key``, the caller's next step); the erasure is recorded with who asked and why."""
    for table, column in (
        ("account_tokens", "user_id"),
        ("account_email_outbox", "user_id"),
        ("sign_in_alerts", "user_id"),
        ("questionnaires", "user_id"),
        ("mentor_photos", "mentor_id"),
        ("mentor_profiles", "mentor_id"),
        ("mentor_availability", "mentor_id"),
    ):
        cur.execute(f"DELETE FROM {table} WHERE {column} = %s", (user_id,))
    cur.execute(
        "UPDATE users SET erased_at = now(), email_index = NULL, password_hash = '', "
        + ", ".join(_erased_unless_sealed(c) for c in USER_TEXTS)
        + " WHERE id = %s",
        (user_id,),
    )
    cur.execute(
        "UPDATE accreditation_applications SET "
        + ", ".join(_erased_unless_sealed(c) for c in APPLICATION_TEXTS)
        + " WHERE mentor_id = %s",
        (user_id,),
    )
    cur.execute(
        "INSERT INTO person_erasures (person_id, requested_by, moderator_id, reason) VALUES (%s, %s, %s, %s)",
        (user_id, requested_by, moderator_id, reason),
    )
