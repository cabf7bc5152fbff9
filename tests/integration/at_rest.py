"""What a service's database holds at rest: the one search of the sealing tests (notifications, library,
cases) for texts that must not be stored in the clear."""

from psycopg2 import sql

SEARCHED_TYPES = ("text", "character varying", "json", "jsonb", "ARRAY", "tsvector")


def found_in_database(conn, needles, expected_columns=()):
    """{needle: ["table.column", ...]}: where any text, varchar, JSON, array or tsvector column of any table
    of the database behind ``conn`` holds one of the texts (as a substring of the column's text).
    ``expected_columns`` ((table, column) pairs) must be among those searched: the search looks where the
    texts would be."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s)",
            (list(SEARCHED_TYPES),),
        )
        columns = [tuple(row) for row in cur.fetchall()]
        missing = set(expected_columns) - set(columns)
        assert not missing, f"not searched: {sorted(missing)}"
        found = {}
        for needle in needles:
            for table, column in columns:
                cur.execute(
                    sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE strpos({}::text, %s) > 0)").format(
                        sql.Identifier(table), sql.Identifier(column)
                    ),
                    (needle,),
                )
                if cur.fetchone()[0]:
                    found.setdefault(needle, []).append(f"{table}.{column}")
        return found
