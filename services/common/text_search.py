"""PostgreSQL full-text pieces shared by the services that search their own text (the library's
similar cases, the cases service's question pool): one copy of the quoting rules."""


def or_query(terms):
    """A tsquery text matching any of the (already normalized) lexemes, quoted for the parser."""
    return " | ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)
