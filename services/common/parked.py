"""Operator command for parked events: list them with the reason, replay one after a fix, drop one.

    python -m services.common.parked list   [--queue matching.case-events]
    python -m services.common.parked replay --queue matching.case-events --event-id <id> [...]
    python -m services.common.parked drop   --queue matching.case-events --event-id <id> | --index <n>

A consumer parks a message (``<queue>.parked``, see contracts/topology.py) when it cannot read it
or when its handler failed DELIVERY_LIMIT times. ``list`` prints one JSON line per parked message
(nothing is consumed: the messages are fetched unacked and go back when the command ends).
``replay`` republishes the message unchanged to the consumer's own queue only (not to the events
exchange, so other consumers do not see it twice), waits for the broker's confirm, and only then
removes it from parking (a quorum queue may drop an unconfirmed publish: measured on RabbitMQ 3.10);
a publish the broker refuses stops the command with the message still parked. The handler's
``first_delivery`` keeps a replay that already took effect harmless. ``drop`` removes it for good.
AMQP_URI is read from the environment, as the services read it.
"""

import argparse
import json
import os
import sys

from amqp.exceptions import MessageNacked
from kombu import Connection, Exchange, Producer

from contracts.envelope import UnreadableEnvelope, read_envelope
from contracts.topology import SUBSCRIPTIONS, SUBSCRIPTIONS_BY_QUEUE, declare_topology

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
_DEFAULT_EXCHANGE = Exchange("", type="direct")


# what ``list`` shows of a body it cannot read, and of an envelope field that is not a plain value
RAW_PREVIEW = 200


def _raw(value):
    """At most RAW_PREVIEW printable characters of anything (a body, a value): never the whole."""
    if isinstance(value, (str, bytes, bytearray)):
        return repr(value[:RAW_PREVIEW])[:RAW_PREVIEW]
    return repr(type(value))


def _preview(value):
    """An envelope field as it is when it is a plain, short value; else its raw preview."""
    if value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= RAW_PREVIEW):
        return value
    return _raw(value)


def _parse(body):
    """(the JSON body, None) or (None, why not). Any body at all: one nested deeper than the parser's
    recursion limit (RecursionError) is as unreadable as one that is not JSON, and must not stop the
    command from listing, replaying or dropping the other messages of its queue."""
    try:
        return json.loads(body), None
    except RecursionError:
        return None, "message body is not JSON this tool can read (nested too deep)"
    except (TypeError, ValueError):
        return None, "message body is not JSON"


def describe(index, message):
    """What an operator needs to decide: which event, why it was parked, how often it was tried."""
    deaths = (message.headers or {}).get("x-death") or [{}]
    item = {
        "index": index,
        "event_id": None,
        "type": None,
        "aggregate_id": None,
        "reason": deaths[0].get("reason"),
        "deliveries": (message.headers or {}).get("x-delivery-count"),
        "unreadable": None,
    }
    body, unreadable = _parse(message.body)
    if unreadable:
        item["unreadable"] = unreadable
        item["body"] = _raw(message.body)
        return item
    if isinstance(body, dict):
        item.update(
            event_id=_preview(body.get("event_id")),
            type=_preview(body.get("type")),
            aggregate_id=_preview(body.get("aggregate_id")),
        )
    try:
        read_envelope(body)
    except UnreadableEnvelope as exc:
        item["unreadable"] = exc.reason
    except Exception as exc:  # noqa: BLE001 - whatever the body holds, the item is still listed
        item["unreadable"] = f"the envelope cannot be read ({type(exc).__name__})"
    return item


def _fetch(channel, queue):
    """Every parked message of ``queue``, unacked (returned to parking unless acked)."""
    messages = []
    while True:
        message = channel.basic_get(f"{queue}.parked", no_ack=False)
        if message is None:
            return messages
        messages.append(message)


class _Message:
    """The few fields of a raw py-amqp message the command uses."""

    def __init__(self, raw):
        self.raw = raw
        self.body = raw.body
        self.headers = raw.properties.get("application_headers") or {}
        self.properties = raw.properties
        self.delivery_tag = raw.delivery_info["delivery_tag"]


def _selected(items, event_ids, indexes):
    return [(i, m) for i, m in items if (describe(i, m)["event_id"] in event_ids) or i in indexes]


class ReplayRefused(Exception):
    """The broker refused (nacked) a replayed message: it stays parked."""


def run(command, queues, event_ids=(), indexes=(), amqp_uri=None, out=sys.stdout):
    """Returns the number of messages listed, replayed or dropped."""
    # publisher confirms: a replayed message leaves parking only once the broker has it
    with Connection(
        amqp_uri or os.environ.get("AMQP_URI", DEFAULT_AMQP_URI), transport_options={"confirm_publish": True}
    ) as conn:
        channel = conn.channel()
        declare_topology(channel)
        done = 0
        for queue in queues:
            items = list(enumerate((_Message(m) for m in _fetch(channel, queue)), start=1))
            if command == "list":
                for i, message in items:
                    out.write(json.dumps({"queue": queue, **describe(i, message)}, default=str) + "\n")
                done += len(items)
                continue
            producer = Producer(channel)
            for i, message in _selected(items, set(event_ids), set(indexes)):
                if command == "replay":
                    headers = {k: v for k, v in message.headers.items() if not k.startswith("x-")}
                    headers["replayed-from"] = f"{queue}.parked"
                    try:
                        producer.publish(
                            message.body,
                            exchange=_DEFAULT_EXCHANGE,
                            routing_key=queue,
                            content_type=message.properties.get("content_type", "application/json"),
                            content_encoding=message.properties.get("content_encoding", "utf-8"),
                            headers=headers,
                            delivery_mode=2,
                        )
                    except MessageNacked:
                        raise ReplayRefused(
                            f"{queue} refused the replayed event {describe(i, message)['event_id']}; it is still parked"
                        ) from None
                channel.basic_ack(message.delivery_tag)
                out.write(json.dumps({"queue": queue, "action": command, **describe(i, message)}, default=str) + "\n")
                done += 1
        channel.close()  # the messages not acked go back to their parking queue
        return done


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.common.parked", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("list", "replay", "drop"))
    parser.add_argument(
        "--queue",
        choices=sorted(SUBSCRIPTIONS_BY_QUEUE),
        help="the consumer queue (its parking queue is <queue>.parked); list: default all",
    )
    parser.add_argument("--event-id", action="append", default=[], help="the parked event (repeatable)")
    parser.add_argument(
        "--index",
        action="append",
        type=int,
        default=[],
        help="the parked message's index as `list` printed it (for unreadable ones)",
    )
    args = parser.parse_args(argv)
    if args.command != "list" and not (args.queue and (args.event_id or args.index)):
        parser.error(f"{args.command} needs --queue and --event-id or --index")
    queues = [args.queue] if args.queue else [s.queue for s in SUBSCRIPTIONS]
    try:
        done = run(args.command, queues, args.event_id, args.index)
    except ReplayRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command != "list" and done == 0:
        print("no parked message matched", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
