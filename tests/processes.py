"""Run services as real `nameko run` processes, the way operators run them."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from nameko.standalone.rpc import ClusterRpcProxy

ROOT = Path(__file__).resolve().parents[1]


class ServiceProcess:
    def __init__(self, name, env, log_dir):
        self.name = name
        self.env = env
        self.log_path = Path(log_dir) / f"{name}.log"
        self.process = None

    def start(self):
        command = [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            f"services/{self.name}/config.yaml",
            f"services.{self.name}.service",
        ]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def wait_healthy(self, amqp_uri, timeout=60):
        """Poll the service's health RPC until it answers ok."""
        deadline = time.monotonic() + timeout
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=2) as rpc:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"{self.name} exited:\n{self.tail()}"
                try:
                    if getattr(rpc, self.name).health()["status"] == "ok":
                        return self
                except Exception:
                    time.sleep(0.2)
        raise AssertionError(f"{self.name} not healthy within {timeout}s:\n{self.tail()}")

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def stop(self):
        self.kill(signal.SIGTERM)

    def terminate(self):
        """Send SIGTERM without waiting (stop several in parallel, then ``wait``)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait(self):
        self.kill(signal.SIGTERM)

    def tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def stop_together(processes):
    """SIGTERM to every process at once, then wait for each (killed after its 20 s): their graceful stops
    overlap instead of adding up."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait()


@contextmanager
def services_as_own_users(test_env, names, log_dir, env=None, timeout=120):
    """``{name: ServiceProcess}`` of ``names`` run as real processes, each as its own broker user
    (services/common/broker_users.py), healthy before the block starts and stopped after it:
    terminated together, then waited for. ``env``: the processes' environment, the session's by default."""
    env = test_env.process_env() if env is None else env
    processes = {
        name: ServiceProcess(name, dict(env, AMQP_URI=test_env.service_amqp_uri(name)), log_dir).start()
        for name in names
    }
    try:
        for process in processes.values():
            process.wait_healthy(test_env.amqp_uri, timeout=timeout)
        yield processes
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.kill()
