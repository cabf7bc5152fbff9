"""A real SMTP server for the e-mail tests: aiosmtpd as its own process, storing every message
it accepts in a Maildir that the test reads.

A process rather than aiosmtpd's in-process Controller: the tests run under eventlet's
monkey patching, which does not mix with an asyncio loop in a thread. Stopping and starting
it again on the same port is a real SMTP outage for the sender.
"""

import mailbox
import re
import signal
import socket
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import default

from tests.processes import ROOT
from tests.support import eventually, free_port

LINK = re.compile(r"/(?P<page>verify-email|reset-password)\?token=(?P<token>[A-Za-z0-9_\-]+)")


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class SmtpSink:
    def __init__(self, maildir, port=None):
        self.maildir = str(maildir)
        self.port = port or free_port()
        self.process = None
        self._parsed = {}

    def start(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                self.maildir,
            ],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not _listening(self.port):
            if self.process.poll() is not None:
                raise AssertionError(f"aiosmtpd exited: {self.process.stderr.read().decode(errors='replace')}")
            assert time.monotonic() < deadline, f"aiosmtpd did not listen on {self.port}"
            time.sleep(0.05)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        deadline = time.monotonic() + 10
        while _listening(self.port):  # an outage starts when nothing answers any more
            assert time.monotonic() < deadline, f"port {self.port} still answers"
            time.sleep(0.05)

    def messages(self, to=None):
        """Every message received so far (parsed), in the order received, optionally only those to one
        address."""
        found = []
        box = mailbox.Maildir(self.maildir, factory=None, create=True)
        for key in sorted(box.keys(), key=_received):
            message = self._parsed.get(key)
            if message is None:  # a message once delivered never changes: parsed once
                message = self._parsed[key] = message_from_bytes(box.get_bytes(key), policy=default)
            if to is None or to.lower() in (message.get("To") or "").lower():
                found.append(message)
        return found

    def account_emails(self, to, kind=None):
        """Identity's account e-mails to one address (oldest first), optionally of one kind
        (``email_verification``, ``password_reset``, ``registration_attempt``, ``failed_sign_ins``)."""
        found = [
            m
            for m in self.messages(to)
            if m.get("X-Account-Email-Kind") and (kind is None or m["X-Account-Email-Kind"] == kind)
        ]
        return found

    def wait_for_account_email(self, to, kind, count=1, timeout=30):
        """The ``count``-th account e-mail of ``kind`` to ``to`` once it has arrived."""
        return eventually(
            lambda: (self.account_emails(to, kind) + [None] * count)[count - 1],
            timeout=timeout,
            interval=0.05,
            message=f"{kind} e-mail number {count} to {to}",
        )

    def link_token(self, to, kind="email_verification", count=1, timeout=30):
        """The token of the link in the ``count``-th account e-mail of ``kind`` to ``to`` (waits for it)."""
        return link_token(self.wait_for_account_email(to, kind, count, timeout))


def _received(key):
    """A Maildir key (``<seconds>.M<microseconds>P<pid>Q<n>.<host>``) as the time it was delivered."""
    seconds, _, rest = key.partition(".")
    micros = re.match(r"M(\d+)", rest)
    return (int(seconds) if seconds.isdigit() else 0, int(micros.group(1)) if micros else 0, key)


def link_token(message):
    """The token of the one-time link (verify-email or reset-password) in an account e-mail."""
    found = LINK.search(message.get_body(("plain",)).get_content())
    assert found, f"no link in the e-mail {message['Subject']!r}"
    return found.group("token")
