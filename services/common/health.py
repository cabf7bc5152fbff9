"""The health answer every service gives over RPC (the gateway's /ready aggregates them).

The database is really checked, each time, with a short deadline (``PostgresStore.ping``): a new
connection and a query; "unavailable" when either fails or takes longer.
"""


def health_report(service_name, store):
    try:
        store.ping()
        database = "ok"
    except Exception:
        database = "unavailable"
    return {"service": service_name, "status": "ok" if database == "ok" else "degraded", "database": database}
