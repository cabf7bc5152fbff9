"""A real SMTP server for the e-mail tests: aiosmtpd as its own process, storing every message
it accepts in a Maildir that the test reads.

A process rather than aiosmtpd's in-process Controller: the tests run under eventlet's
monkey patching, which does not mix with an asyncio loop in a thread. Stopping and starting
it again on the same port is a real SMTP outage for the sender.
"""
import mailbox
import signal
import socket
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import default

from tests.processes import ROOT


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", self.maildir],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not _listening(self.port):
            if self.process.poll() is not None:
                raise AssertionError(f"aiosmtpd exited: {self.process.stderr.read().decode(errors='replace')}")
            assert time.monotonic() < deadline, f"aiosmtpd did not listen on {self.port}"
            time.sleep(0.05)
        return self

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
        """Every message received so far (parsed), optionally only those to one address."""
        found = []
        for raw in mailbox.Maildir(self.maildir, factory=None, create=True):
            message = message_from_bytes(raw.as_bytes(), policy=default)
            if to is None or to.lower() in (message.get("To") or "").lower():
                found.append(message)
        return found
