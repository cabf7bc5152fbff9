"""The diagram of docs/architecture.md (services, RPC calls, exchanges, queues, databases and their
tables), made from the code so that it stays true: ``python -m operations.architecture`` rewrites it,
and tests/unit/test_architecture_doc.py fails, naming that command, when the file and the code differ.

Where each fact comes from: the services and whom they call, ``services/common/broker_users.py``;
exchanges, queues and broadcasts, ``contracts/topology.py``; each service's tables, the CREATE TABLE
statements of the numbered schema history its ``Database`` names (services/<service>/migrations), plus
cases' event store, which eventsourcing creates itself.
"""

import os
import re
import sys

from contracts.topology import BROADCASTS, SUBSCRIPTIONS
from services.common import migrations
from services.common.broker_users import CALLS
from services.common.db import Database

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "architecture.md")
BEGIN = "<!-- diagram: made by `python -m operations.architecture`, do not edit by hand -->"
END = "<!-- end of diagram -->"
CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")


def service_classes():
    from services.cases.service import CasesService
    from services.gateway.service import GatewayService
    from services.identity.service import IdentityService
    from services.library.service import LibraryService
    from services.matching.service import MatchingService
    from services.notifications.service import NotificationsService

    return (GatewayService, IdentityService, CasesService, MatchingService, NotificationsService, LibraryService)


def tables_of(service_cls):
    """The tables a service's database holds (yoyo's own, and schema_statements of the code before the
    histories, left out)."""
    tables = set()
    for provider in vars(service_cls).values():
        if isinstance(provider, Database):
            for statement in migrations.statements(provider.history):
                tables.update(CREATE_TABLE.findall(statement))
    if service_cls.name == "cases":
        from services.cases.application import CasesApplication

        tables.add(f"{CasesApplication.name}_events")  # eventsourcing's event store
    return sorted(tables)


def diagram():
    lines = [
        "```mermaid",
        "flowchart LR",
        '  people(["people, in a browser"]) -->|HTTPS| web["web: the browser client"]',
        "  web -->|HTTP API| gateway",
    ]
    classes = service_classes()
    for caller in sorted(CALLS):
        for callee in CALLS[caller]:
            lines.append(f"  {caller} -.->|RPC| {callee}")
    sources = sorted({s.source for s in SUBSCRIPTIONS} | {b.source for b in BROADCASTS})
    for source in sources:
        lines.append(f"  {source} --> ex_{source}{{{{{source}.events}}}}")
    for subscription in SUBSCRIPTIONS:
        node = "q_" + re.sub(r"\W", "_", subscription.queue)
        consumer = subscription.queue.split(".", 1)[0]
        lines.append(f'  ex_{subscription.source} --> {node}[("{subscription.queue}")] --> {consumer}')
    for broadcast in BROADCASTS:
        node = "b_" + re.sub(r"\W", "_", broadcast.prefix)
        consumer = broadcast.prefix.split(".", 1)[0]
        lines.append(f'  ex_{broadcast.source} -.-> {node}[("{broadcast.prefix}.* one per process")] -.-> {consumer}')
    for service_cls in classes:
        tables = tables_of(service_cls)
        if tables:
            label = "<br/>".join([f"<b>mentor_{service_cls.name}</b>"] + tables)
            lines.append(f'  {service_cls.name} --- db_{service_cls.name}[("{label}")]')
    lines.append("```")
    return "\n".join(lines)


def rewritten(text):
    """``text`` (the document) with its diagram made anew."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + diagram() + "\n" + text[end:]


def main():
    with open(DOC, encoding="utf-8") as stream:
        text = stream.read()
    new = rewritten(text)
    if new != text:
        with open(DOC, "w", encoding="utf-8") as stream:
            stream.write(new)
        print(f"{DOC}: diagram rewritten")
    else:
        print(f"{DOC}: diagram already true")
    return 0


if __name__ == "__main__":
    sys.exit(main())
