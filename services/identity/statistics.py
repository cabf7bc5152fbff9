"""Registrations per year for the moderators' statistics (seed Table 1: mentors and young
pedagogues per year). Moderators are staff, not users of the service, so they are not counted."""

NOT_A_MODERATOR = "Only a moderator sees the platform's statistics."


def registrations(cur):
    """Rows ``{year, mentees, mentors, accredited_mentors}`` of the years with a registration (UTC);
    accredited: the mentor is on the roll of mentors now."""
    cur.execute(
        "SELECT extract(year FROM u.created_at AT TIME ZONE 'UTC')::int AS year, "
        "count(*) FILTER (WHERE u.role = 'mentee') AS mentees, "
        "count(*) FILTER (WHERE u.role = 'mentor') AS mentors, "
        "count(*) FILTER (WHERE u.role = 'mentor' AND a.state = 'accredited') AS accredited_mentors "
        "FROM users u LEFT JOIN accreditations a ON a.mentor_id = u.id "
        "WHERE u.role IN ('mentee', 'mentor') GROUP BY 1 ORDER BY 1"
    )
    return cur.fetchall()


def per_year(rows):
    """Oldest year first, the years in between without a registration as zeros (a table has no holes)."""
    by_year = {int(row["year"]): row for row in rows}
    if not by_year:
        return []
    return [
        {
            "year": year,
            **{k: int(by_year.get(year, {}).get(k, 0)) for k in ("mentees", "mentors", "accredited_mentors")},
        }
        for year in range(min(by_year), max(by_year) + 1)
    ]
