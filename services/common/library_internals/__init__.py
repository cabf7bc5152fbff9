"""The fence: every piece of the platform that reads or overrides another library's private parts.

Most of it is speed work (bench/RESULTS.md has the figures): what it relies on is nowhere promised by
the library and may change in any release, silently. So it lives here and nowhere else, each module
naming the library version it was written against (``WRITTEN_AGAINST``: distribution, version) and
what to re-check when that changes (``RECHECK``); tests/unit/test_library_internals.py fails, quoting
both, as soon as the installed version differs. Each speed-up keeps the library's stock path one
setting away:

- ``psycopg2_pool``: psycopg2's pool ``_pool``, ``_used``, ``_lock`` and ``minconn`` rule; stock:
  ``DB_POOL=stock``;
- ``marshmallow_fast_load``: marshmallow's ``Schema._hooks`` and fields' load rules; stock:
  ``PAYLOAD_FAST_LOAD=off``;
- ``eventsourcing_group_commit``: eventsourcing's PostgreSQL recorders' SQL and its datastore's class;
  stock: ``CASES_RECORDER=stock``;
- ``eventsourcing_application``: eventsourcing's ``Application.save``/``_record`` and frozen events;
  stock: ``CASES_SAVE=stock``;
- ``nameko_rpc``: nameko's RPC entrypoint, method proxy and reply listener internals; no stock path
  (the deadlines are correctness, not speed);
- ``yoyo_history``: yoyo-migrations' record table, its lock-free ``apply_migrations``, the step
  connections opened from the URL and its step collector (services/common/migrations.py); no stock path
  (the bounded lock waits are correctness, not speed).

The platform's own modules import the public names from their usual places (services/common/db.py,
services/common/rpc.py, contracts/fast_load.py, services/cases/application.py).
"""

MODULES = (
    "psycopg2_pool",
    "marshmallow_fast_load",
    "eventsourcing_group_commit",
    "eventsourcing_application",
    "nameko_rpc",
    "yoyo_history",
)
