#!/usr/bin/python3
"""A stand-in for mailpit (https://mailpit.axllent.org): accepts every message over SMTP on port 1025 and
keeps it in memory; on port 8025 answers the part of mailpit's HTTP API the project's tests read:

  GET /readyz                        200 once running (`mailpit readyz` probes it: the compose healthcheck)
  GET /api/v1/messages               {"total", "messages": [{"ID", "Subject", "To": [{"Name", "Address"}]}]},
                                     newest first, as mailpit lists them
  GET /api/v1/message/<ID>/raw       the message's source
"""

import json
import signal
import sys
import threading
import urllib.request
import uuid
from email import message_from_bytes
from email.policy import default
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

SMTP_PORT, HTTP_PORT = 1025, 8025
MESSAGES = []  # (id, raw bytes, summary), oldest first
LOCK = threading.Lock()


class Catcher:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=default)
        summary = {
            "Subject": str(parsed.get("Subject", "")),
            "To": [
                {"Name": name, "Address": address}
                for name, address in getaddresses([str(v) for v in parsed.get_all("To", [])])
            ],
        }
        with LOCK:
            message_id = uuid.uuid4().hex
            MESSAGES.append((message_id, raw, dict(summary, ID=message_id)))
        return "250 Message accepted for delivery"


class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        with LOCK:
            messages = list(MESSAGES)
        if path == "/readyz":
            return self._send(200, b"ok", "text/plain")
        if path == "/api/v1/messages":
            body = {"total": len(messages), "messages": [summary for _, _, summary in reversed(messages)]}
            return self._send(200, json.dumps(body).encode(), "application/json")
        if path.startswith("/api/v1/message/") and path.endswith("/raw"):
            wanted = path[len("/api/v1/message/") : -len("/raw")]
            for message_id, raw, _ in messages:
                if message_id == wanted:
                    return self._send(200, raw, "message/rfc822")
        return self._send(404, b"not found", "text/plain")

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet, like mailpit
        pass


def serve():
    # as PID 1 a process without a handler ignores SIGTERM: every stop would wait for the kill
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    controller = Controller(Catcher(), hostname="0.0.0.0", port=SMTP_PORT)
    controller.start()
    print(f"mailpit stand-in: SMTP on {SMTP_PORT}, HTTP on {HTTP_PORT}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), Api).serve_forever()


def readyz():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/readyz", timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(readyz() if sys.argv[1:] == ["readyz"] else serve())
