"""The local runner's supervisor: start each service as its own process, wait for the gateway's
/ready, stop them (SIGTERM, then SIGKILL), report status, show logs; the commands of scripts/platform.py.
"""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from runner_demo import (
    load_demo,
)
from runner_infrastructure import (
    MAIL_CATCHER,
    ensure_broker_users,
    ensure_mail_catcher,
    ensure_postgres,
    ensure_rabbitmq,
    migrate_databases,
    stop_mail_catcher,
)
from runner_processes import (
    log_file,
    make_run_dirs,
    pid_file,
    reachable,
    remove_pid,
    running_pid,
    say,
    tail,
)
from runner_table import (
    ROOT,
    SERVICES,
    WEB,
    command,
    gateway_url,
    service_env,
    this_command,
    web_url,
)
from runner_walkthrough import print_walkthrough


def nameko_executable():
    beside = os.path.join(os.path.dirname(sys.executable), "nameko")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("nameko")
    if not found:
        sys.exit('nameko is not installed: run `.venv/bin/pip install -e ".[test]"` first')
    return found


def start_service(service, amqp_uri=None):
    """Start ``service``; ``amqp_uri``: its own broker user's (ensure_broker_users), else AMQP_URI."""
    make_run_dirs()
    env = dict(os.environ)
    env.update(service_env(service))
    if amqp_uri and "AMQP_URI" in env:
        env["AMQP_URI"] = amqp_uri
    env["PYTHONUNBUFFERED"] = "1"
    args = shlex.split(command(service))
    args[0] = sys.executable if service == WEB else nameko_executable()
    log = open(log_file(service), "ab")
    try:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    with open(pid_file(service), "w") as f:
        f.write(f"{process.pid}\n")
    return process


def readiness(timeout=3.0):
    """(ok, {service: status}) from the gateway's /ready; ({}, message) when it does not answer."""
    import requests

    try:
        response = requests.get(f"{gateway_url()}/ready", timeout=timeout)
    except requests.RequestException as exc:
        return False, {"gateway": f"not answering ({type(exc).__name__})"}
    try:
        body = response.json()
    except ValueError:
        return False, {"gateway": f"HTTP {response.status_code}, not JSON"}
    services = body.get("services") or (body.get("error") or {}).get("details", {}).get("services") or {}
    summary = {name: s.get("status", "?") if isinstance(s, dict) else str(s) for name, s in services.items()}
    summary["gateway"] = "ok"
    return response.status_code == 200, summary


def wait_ready(processes, timeout=90.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for service, process in processes.items():
            if process is not None and process.poll() is not None:
                say(f"\n{service} exited with status {process.returncode}; the end of {log_file(service)}:")
                tail(service, 30)
                return False
        ok, summary = readiness()
        if ok:
            return True
        waiting = sorted(name for name, status in summary.items() if status != "ok")
        if waiting != last:
            say(f"  waiting for: {', '.join(waiting)}")
            last = waiting
        time.sleep(1)
    ok, summary = readiness()
    if ok:
        return True
    say(f"\nnot ready after {timeout:.0f} s:")
    for name in sorted(summary):
        say(f"  {name:14} {summary[name]}")
    for name in (s for s in SERVICES if s != WEB):
        if summary.get(name, "missing") != "ok":
            say(f"  see {log_file(name)}")
    return False


def cmd_up(args):
    running = {s: running_pid(s) for s in SERVICES}
    if all(running.values()):
        ok, summary = readiness()
        say(
            "already up"
            + ("" if ok else "; not ready: " + ", ".join(n for n, s in sorted(summary.items()) if s != "ok"))
        )
        say(f"(`{this_command()} status` for details, `{this_command()} down` to stop)")
        return 0 if ok else 1
    ensure_postgres()
    migrate_databases()
    ensure_rabbitmq()
    service_uris = ensure_broker_users()
    ensure_mail_catcher()
    port = int(gateway_url().rsplit(":", 1)[1])
    if not running["gateway"] and reachable("127.0.0.1", port, 1.0):
        sys.exit(
            f"port {port} is taken by a process this runner did not start; "
            "stop it or set GATEWAY_ADDRESS=0.0.0.0:<port>"
        )
    processes = {}
    for service in SERVICES:
        if running[service]:
            say(f"{service:14} already running (pid {running[service]})")
            processes[service] = None
            continue
        process = start_service(service, service_uris.get(service))
        processes[service] = process
        say(f"{service:14} started (pid {process.pid}), log {os.path.relpath(log_file(service), ROOT)}")
    say(f"waiting for {gateway_url()}/ready ...")
    if not wait_ready(processes):
        say(
            f"\nthe platform is not ready; `{this_command()} logs <service>` shows why, `{this_command()} down` stops it"
        )
        return 1
    if not wait_web(processes.get(WEB)):
        return 1
    say("ready.\n")
    if load_demo() != 0:
        return 1
    print_walkthrough()
    say(f"\nThe browser client: {web_url()}  (sign in as mentee@demo.local, password demo-password-1)")
    return 0


def wait_web(process, timeout=30.0):
    """The browser client answers its home page (it needs only the gateway, which is ready)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            say(f"\nweb exited with status {process.returncode}; the end of {log_file(WEB)}:")
            tail(WEB, 30)
            return False
        try:
            if requests.get(web_url(), timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    say(f"\nthe browser client did not answer at {web_url()}; see {log_file(WEB)}")
    return False


def cmd_down(args):
    stop_mail_catcher()
    stopping = {}
    for service in reversed(list(SERVICES)):
        pid = running_pid(service)
        if pid is None:
            remove_pid(service)
            continue
        try:
            os.killpg(pid, signal.SIGTERM)  # its own session (start_new_session): only this process tree
        except OSError:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        stopping[service] = pid
    if not stopping:
        say("nothing is running")
        return 0
    say("stopping " + ", ".join(stopping) + " ...")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(running_pid(s) for s in stopping):
        time.sleep(0.3)
    for service, pid in stopping.items():
        if running_pid(service):
            say(f"{service} did not stop in time: SIGKILL")
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):  # noqa: B023 - called at once
                try:
                    kill()
                    break
                except OSError:
                    continue
        remove_pid(service)
    say("stopped")
    return 0


def cmd_status(args):
    any_running = False
    for service in SERVICES:
        pid = running_pid(service)
        any_running = any_running or pid is not None
        say(f"{service:14} {'running, pid ' + str(pid) if pid else 'stopped'}")
    catcher = running_pid(MAIL_CATCHER, marker="aiosmtpd")
    say(f"{'mail catcher':14} {'running, pid ' + str(catcher) if catcher else 'not started by this runner'}")
    ok, summary = readiness()
    say(f"\n{gateway_url()}/ready: {'ready' if ok else 'NOT ready'}")
    for name in sorted(summary):
        say(f"  {name:14} {summary[name]}")
    return 0 if ok else (1 if any_running else 3)


def cmd_logs(args):
    services = [args.service] if args.service else list(SERVICES)
    for service in services:
        if service not in SERVICES:
            sys.exit(f"no service {service!r}; one of: {', '.join(SERVICES)}")
    if args.follow:
        paths = [log_file(s) for s in services if os.path.exists(log_file(s))]
        if not paths:
            sys.exit("no logs yet")
        os.execvp("tail", ["tail", "-n", str(args.lines), "-F", *paths])
    for service in services:
        if len(services) > 1:
            say(f"==> {os.path.relpath(log_file(service), ROOT)} <==")
        tail(service, args.lines)
    return 0


def cmd_demo(args):
    ok, summary = readiness()
    if not ok:
        say("the platform is not ready: " + ", ".join(f"{n} {s}" for n, s in sorted(summary.items()) if s != "ok"))
        say(f"start it with `{this_command()} up`")
        return 1
    status = load_demo()
    if status == 0:
        print_walkthrough()
    return status
