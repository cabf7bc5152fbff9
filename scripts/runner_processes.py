"""The local runner's files and output: .run/logs/<service>.log, .run/pids/<service>.pid, whether a
process we started still runs, the end of a log, and a few network checks.
"""

import os
import socket

from runner_table import (
    RUN_DIR,
    WEB,
)

LOG_DIR = os.path.join(RUN_DIR, "logs")


PID_DIR = os.path.join(RUN_DIR, "pids")


def make_run_dirs():
    os.makedirs(LOG_DIR, exist_ok=True)
    os.makedirs(PID_DIR, exist_ok=True)


def say(message=""):
    print(message, flush=True)


def reachable(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_local(host):
    return host in ("127.0.0.1", "localhost", "::1")


def pid_file(service):
    return os.path.join(PID_DIR, f"{service}.pid")


def log_file(service):
    return os.path.join(LOG_DIR, f"{service}.log")


def running_pid(service, marker=None):
    """The pid of our `nameko run` of ``service`` if it is alive (a reused pid does not count);
    ``marker``: what else its command line must contain (the mail catcher's)."""
    try:
        with open(pid_file(service)) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid  # no /proc: trust the pid
    if (marker or ("-m services.web" if service == WEB else f"services.{service}.service")) not in cmdline:
        return None
    try:  # a zombie (exited, not yet reaped) is not running
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
    except (OSError, IndexError):
        pass
    return pid


def remove_pid(service):
    try:
        os.remove(pid_file(service))
    except OSError:
        pass


def tail(service, lines):
    path = log_file(service)
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            text = f.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        say(f"(no log yet at {path})")
        return
    for line in text:
        say(line)
