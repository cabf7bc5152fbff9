"""A second process writing through its own group-commit recorder, with plain threads (no eventlet).

    python -m tests.integration.group_commit_writer DATABASE_URL APP_NAME THREADS COMMANDS

Prints ``ready`` once its recorder is up, waits for a line on stdin (``go``), runs THREADS
threads of COMMANDS commands each (1 to 3 new events a command), then prints one JSON line:
``{"results": [[originator_id, [version, ...], [notification_id, ...]], ...], "failures": [...],
"batches": n, "commands": n}``, one result per command.
"""

import json
import sys
import threading
import uuid

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment

from services.cases.application import postgres_env
from services.common.library_internals.eventsourcing_group_commit import Factory


def command_events(seed):
    originator_id = uuid.uuid4()
    return [
        StoredEvent(originator_id, version, "tests:Event", f"{seed}-{version}".encode())
        for version in range(1, seed % 3 + 2)
    ]


def main(url, name, threads, commands):
    factory = Factory(Environment(name, postgres_env(url, pool_size=2, recorder="group_commit")))
    recorder = factory.application_recorder()
    results, failures = [], []

    def client(number):
        try:
            for i in range(commands):
                events = command_events(number * commands + i)
                ids = recorder.insert_events(events)
                results.append([str(events[0].originator_id), [e.originator_version for e in events], ids])
        except Exception as exc:  # reported to the test
            failures.append(repr(exc))

    print("ready", flush=True)
    sys.stdin.readline()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    factory.close()
    print(
        json.dumps(
            {
                "results": results,
                "failures": failures,
                "batches": recorder.writer.batches,
                "commands": recorder.writer.commands,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
