"""SQL of the identity service; every function runs in the caller's transaction (cursor)."""

_PROFILE_COLUMNS = ("u.first_name, u.last_name, u.patronymic, p.mentor_id, p.rubrics, p.place_of_work, "
                    "p.institute, p.position, p.interests, p.links, p.motto, p.accepting_cases, p.updated_at")
_PROFILE_FROM = "mentor_profiles p JOIN users u ON u.id = p.mentor_id AND u.role = 'mentor'"
_PROFILE_ORDER = "ORDER BY u.last_name, u.first_name, p.mentor_id"


def insert_user(cur, user):
    """Insert a new account; returns its row, or None if the e-mail is taken."""
    cur.execute(
        "INSERT INTO users (id, email, password_hash, role, first_name, last_name, patronymic, created_at) "
        "VALUES (%(id)s, %(email)s, %(password_hash)s, %(role)s, %(first_name)s, %(last_name)s, "
        "%(patronymic)s, %(created_at)s) ON CONFLICT (email) DO NOTHING RETURNING *", user)
    return cur.fetchone()


def user_by_email(cur, email):
    cur.execute("SELECT * FROM users WHERE email = %s", (email,))
    return cur.fetchone()


def user_by_id(cur, user_id, lock=False):
    cur.execute("SELECT * FROM users WHERE id = %s" + (" FOR UPDATE" if lock else ""), (user_id,))
    return cur.fetchone()


def replace_password_hash(cur, user_id, old_hash, new_hash):
    cur.execute("UPDATE users SET password_hash = %s WHERE id = %s AND password_hash = %s",
                (new_hash, user_id, old_hash))


def upsert_profile(cur, mentor_id, profile):
    cur.execute(
        "INSERT INTO mentor_profiles (mentor_id, rubrics, place_of_work, institute, position, interests, "
        "links, motto, accepting_cases, updated_at) VALUES (%(mentor_id)s, %(rubrics)s, %(place_of_work)s, "
        "%(institute)s, %(position)s, %(interests)s, %(links)s, %(motto)s, %(accepting_cases)s, now()) "
        "ON CONFLICT (mentor_id) DO UPDATE SET rubrics = EXCLUDED.rubrics, "
        "place_of_work = EXCLUDED.place_of_work, institute = EXCLUDED.institute, "
        "position = EXCLUDED.position, interests = EXCLUDED.interests, links = EXCLUDED.links, "
        "motto = EXCLUDED.motto, accepting_cases = EXCLUDED.accepting_cases, updated_at = now()",
        dict(profile, mentor_id=mentor_id))


def profile(cur, mentor_id):
    cur.execute(f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} WHERE p.mentor_id = %s", (mentor_id,))
    return cur.fetchone()


def profiles(cur, rubric=None):
    if rubric is None:
        cur.execute(f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} {_PROFILE_ORDER}")
    else:
        cur.execute(f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} WHERE p.rubrics @> ARRAY[%s]::text[] "
                    f"{_PROFILE_ORDER}", (rubric,))
    return cur.fetchall()


def profiles_by_ids(cur, mentor_ids):
    if not mentor_ids:
        return []
    cur.execute(f"SELECT {_PROFILE_COLUMNS} FROM {_PROFILE_FROM} WHERE p.mentor_id = ANY(%s::uuid[])",
                (list(mentor_ids),))
    return cur.fetchall()


_QUESTIONNAIRE_COLUMNS = ("school, subjects, forms_taught, years_of_practice, graduation_year, "
                          "graduation_institute, workload_hours_per_week, updated_at")


def upsert_questionnaire(cur, user_id, questionnaire):
    cur.execute(
        "INSERT INTO questionnaires (user_id, school, subjects, forms_taught, years_of_practice, "
        "graduation_year, graduation_institute, workload_hours_per_week, updated_at) VALUES (%(user_id)s, "
        "%(school)s, %(subjects)s, %(forms_taught)s::integer[], %(years_of_practice)s, %(graduation_year)s, "
        "%(graduation_institute)s, %(workload_hours_per_week)s, now()) "
        "ON CONFLICT (user_id) DO UPDATE SET school = EXCLUDED.school, subjects = EXCLUDED.subjects, "
        "forms_taught = EXCLUDED.forms_taught, years_of_practice = EXCLUDED.years_of_practice, "
        "graduation_year = EXCLUDED.graduation_year, graduation_institute = EXCLUDED.graduation_institute, "
        "workload_hours_per_week = EXCLUDED.workload_hours_per_week, updated_at = now() "
        f"RETURNING {_QUESTIONNAIRE_COLUMNS}",
        dict(questionnaire, user_id=user_id))
    return cur.fetchone()


def questionnaire(cur, user_id):
    cur.execute(f"SELECT {_QUESTIONNAIRE_COLUMNS} FROM questionnaires WHERE user_id = %s", (user_id,))
    return cur.fetchone()


def insert_questionnaire_read(cur, author_id, reader_id, case_id):
    cur.execute("INSERT INTO questionnaire_reads (author_id, reader_id, case_id) VALUES (%s, %s, %s)",
                (author_id, reader_id, case_id))


def questionnaire_reads(cur, author_id):
    cur.execute("SELECT reader_id, case_id, read_at FROM questionnaire_reads WHERE author_id = %s "
                "ORDER BY read_at DESC, id DESC", (author_id,))
    return cur.fetchall()
