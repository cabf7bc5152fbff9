"""A private RabbitMQ node for the broker-outage test: the machine's shared broker serves other test
runs and must never be stopped, so this node has its own name, ports, data directory and cookie."""

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

from tests.support import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # the scripts themselves, not /usr/sbin's user-switching wrappers


def _bin(name):
    path = RABBITMQ_BIN / name
    return str(path) if path.exists() else shutil.which(name)


class PrivateBroker:
    def __init__(self, base_dir, management=False):
        """``management``: with the management API (compose's image has it) on ``management_url``."""
        self.base = Path(base_dir)
        self.node = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        (self.base / "home").mkdir(parents=True, exist_ok=True)
        (self.base / "plugins").write_text("[rabbitmq_management].\n" if management else "[].\n")
        conf = "loopback_users = none\n"
        if management:
            management_port = free_port()
            conf += f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {management_port}\n"
            self.management_url = f"http://127.0.0.1:{management_port}"
        (self.base / "rabbitmq.conf").write_text(conf)
        self.env = dict(
            os.environ,
            HOME=str(self.base / "home"),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "plugins"),
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
            RABBITMQ_PID_FILE=str(self.base / "pid"),
        )
        self.uri = f"pyamqp://guest:guest@127.0.0.1:{self.port}/"
        self.process = None

    def start(self, timeout=90):
        self._log = open(self.base / "server.log", "ab")
        self.process = subprocess.Popen(
            [_bin("rabbitmq-server")],
            env=self.env,
            cwd=self.base,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:  # await_startup fails at once until the node has registered with epmd
            assert self.process.poll() is None, (self.base / "server.log").read_text(errors="replace")[-2000:]
            try:
                self.ctl("await_startup", timeout=timeout)
                return self
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def ctl(self, *args, timeout=60):
        done = subprocess.run(
            [_bin("rabbitmqctl"), "-n", self.node, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"rabbitmqctl {' '.join(args)}: {done.stdout}{done.stderr}"

    def stop_app(self):
        """The outage: every client connection is closed and new ones are refused."""
        self.ctl("stop_app")

    def start_app(self):
        self.ctl("start_app")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the private broker did not come back")

    def close(self):
        """Stop the node; if it does not stop, kill its process group (the script and the Erlang VM)."""
        if self.process and self.process.poll() is None:
            try:
                self.ctl("stop", timeout=60)
                self.process.wait(timeout=30)
            except Exception:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()
