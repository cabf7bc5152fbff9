"""The whole platform for a benchmark: the six services as `nameko run` processes, isolated.

    with BenchPlatform("gateway") as p:        # databases mentor_bench_gateway_<service>,
        p.base, p.amqp_uri, p.pids()            # vhost mentor_bench_gateway, a free HTTP port

Reuses the runner's table of variables (scripts/platform.py: SERVICES, ENV_DEFAULTS,
service_env) and the test suite's process wrapper (tests/processes.py: ServiceProcess), so a
service runs exactly as `scripts/platform.py up` runs it, only with its own databases (dropped
first and at the end), its own RabbitMQ vhost (created, then deleted) and its own gateway port:
it never touches a running platform nor the test suite. Teardown runs on success, failure and
Ctrl-C (SIGTERM is turned into KeyboardInterrupt so a killed bench cleans up too).
"""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit

import requests

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)
sys.path.insert(0, BENCH)

from scratch import recreate, server_url  # noqa: E402  (bench/scratch.py)

from tests.processes import ServiceProcess  # noqa: E402


def _load_runner():
    """scripts/platform.py by path: as `platform` it would shadow the standard library's module."""
    spec = importlib.util.spec_from_file_location(
        "mentor_platform_runner", os.path.join(ROOT, "scripts", "platform.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_load_runner()  # it puts scripts/ last on sys.path, where its parts (scripts/runner_*.py) are found
runner = importlib.import_module("runner_table")
processes = importlib.import_module("runner_processes")
# identity, cases, matching, notifications, library, gateway: the nameko services (the runner also starts
# the browser client, "web", which is no nameko service: bench/bench_web.py starts it itself)
SERVICES = tuple(s for s in runner.SERVICES if s != runner.WEB)
BACKENDS = tuple(s for s in SERVICES if s != "gateway")
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
DEFAULT_AMQP = "pyamqp://guest:guest@127.0.0.1:5672/"
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rabbitmqctl(*args, check=True):
    return subprocess.run(["rabbitmqctl", "-q", *args], check=check, capture_output=True, timeout=120)


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


class BenchProcess(ServiceProcess):
    """A ServiceProcess for a module of bench/ (the constant endpoint): same Popen, own command."""

    def __init__(self, name, module, config_path, env, log_dir):
        super().__init__(name, env, log_dir)
        self.module, self.config_path = module, config_path

    def start(self):
        command = [sys.executable, "-m", "nameko", "run", "--config", self.config_path, self.module]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command, cwd=BENCH, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self


class BenchPlatform:
    """Six service processes on scratch databases, a scratch vhost and a free port."""

    def __init__(
        self, name, postgres=DEFAULT_POSTGRES, amqp=DEFAULT_AMQP, services=SERVICES, overrides=None, keep_logs=False
    ):
        self.name = name
        self.postgres = postgres.rstrip("/")
        self.services = tuple(services)
        self.vhost = f"mentor_bench_{name}"
        parts = urlsplit(amqp)
        self.amqp_uri = f"{parts.scheme}://{parts.netloc}/{self.vhost}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.databases = {s: f"mentor_bench_{name}_{s}" for s in BACKENDS}
        self.log_dir = tempfile.mkdtemp(prefix=f"mentor-bench-{name}-")
        self.keep_logs = keep_logs
        self.overrides = dict(overrides or {})
        self.processes = {}
        self.extra = []  # other processes to stop at teardown (the constant endpoint)
        self._vhost_made = False
        self._previous_sigterm = None

    # ---- environment ----------------------------------------------------------------------

    def environ(self):
        """What the runner would read from the shell: every service's database, broker, port."""
        environ = dict(os.environ)
        # every bench client registers from 127.0.0.1: no per-address registration limit
        environ.update(
            {
                "AMQP_URI": self.amqp_uri,
                "GATEWAY_ADDRESS": f"127.0.0.1:{self.port}",
                "LOG_LEVEL": "INFO",
                "REGISTRATION_ADDRESS_LIMIT": "1000000",
            }
        )
        for service, db in self.databases.items():
            environ[f"{service.upper()}_DATABASE_URL"] = f"{self.postgres}/{db}"
        environ.update(self.overrides)
        return environ

    def process_env(self, service):
        """As scripts/platform.py start_service builds it: the shell plus the service's variables."""
        environ = self.environ()
        env = dict(os.environ)
        env.update(runner.service_env(service, environ))
        env["PYTHONUNBUFFERED"] = "1"
        for key, value in self.overrides.items():  # extra config keys (e.g. DB_POOL_SIZE) pass through
            env[key] = value
        return env

    def database_url(self, service):
        return f"{self.postgres}/{self.databases[service]}"

    # ---- lifecycle ------------------------------------------------------------------------

    def __enter__(self):
        self._previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()
        if exc_type is None and not self.keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        else:
            print(f"the services' logs are in {self.log_dir}", flush=True)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        return False

    def start(self, timeout=90):
        admin = server_url(self.postgres, "postgres")
        for db in self.databases.values():
            recreate(admin, db)  # fresh: a leftover of an interrupted run is dropped first
        _rabbitmqctl("delete_vhost", self.vhost, check=False)
        _rabbitmqctl("add_vhost", self.vhost)
        self._vhost_made = True
        _rabbitmqctl("set_permissions", "-p", self.vhost, urlsplit(self.amqp_uri).username or "guest", ".*", ".*", ".*")
        print(
            f"platform: vhost {self.vhost}, databases mentor_bench_{self.name}_*, gateway {self.base}, "
            f"logs {self.log_dir}",
            flush=True,
        )
        self._start_mail_catcher()
        for service in self.services:
            self.processes[service] = ServiceProcess(service, self.process_env(service), self.log_dir).start()
        for service in self.services:
            if service != "gateway":
                self.processes[service].wait_healthy(self.amqp_uri, timeout=timeout)
        if "gateway" in self.services:
            self.wait_http(f"{self.base}/ready", timeout, self.processes["gateway"])
        return self

    def _start_mail_catcher(self):
        """As `scripts/platform.py up` does, notification e-mails go to an SMTP catcher (aiosmtpd, the
        test extra), here on a free port of its own; without one every e-mail fails and is retried."""
        if importlib.util.find_spec("aiosmtpd") is None:
            print("aiosmtpd not installed: notification e-mails fail and are retried", flush=True)
            return
        port = free_port()
        catcher = ServiceProcess("mail", dict(os.environ), self.log_dir)
        catcher._log = open(catcher.log_path, "ab")
        catcher.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"],
            cwd=ROOT,
            stdout=catcher._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.extra.append(catcher)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not processes.reachable("127.0.0.1", port, 0.5):
            time.sleep(0.2)
        self.overrides.setdefault("SMTP_HOST", "127.0.0.1")
        self.overrides.setdefault("SMTP_PORT", str(port))

    def wait_http(self, url, timeout, process=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process is not None and process.process.poll() is not None:
                raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            try:
                if requests.get(url, timeout=3).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} not ready within {timeout}s")

    def start_gateway(self, name, **overrides):
        """Another gateway process (``name``, e.g. with other settings) on its own port, beside the
        platform's: its base URL and ServiceProcess, once it answers /ready."""
        port = free_port()
        env = self.process_env("gateway")
        env.update({"GATEWAY_ADDRESS": f"127.0.0.1:{port}", **overrides})
        process = ServiceProcess("gateway", env, self.log_dir)
        process.log_path = process.log_path.with_name(f"{name}.log")
        process.start()
        self.extra.append(process)
        url = f"http://127.0.0.1:{port}"
        self.wait_http(f"{url}/ready", 90, process)
        return url, process

    def start_constant(self, max_workers):
        """The bare nameko HTTP entrypoint (bench/const_service.py) on its own port, run the same way."""
        port = free_port()
        config = os.path.join(self.log_dir, "const.yaml")
        with open(config, "w") as f:
            f.write(f"AMQP_URI: {self.amqp_uri}\nWEB_SERVER_ADDRESS: 127.0.0.1:{port}\nmax_workers: {max_workers}\n")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        process = BenchProcess("const", "const_service", config, env, self.log_dir).start()
        self.extra.append(process)
        url = f"http://127.0.0.1:{port}"
        self.wait_http(f"{url}/const", 60, process)
        return url, process

    def stop(self):
        everything = list(self.processes.values()) + self.extra
        for process in everything:
            try:
                process.terminate()
            except Exception:
                pass
        for process in everything:
            try:
                process.wait()
            except Exception:
                pass
        admin = server_url(self.postgres, "postgres")
        for db in self.databases.values():
            try:
                recreate(admin, db, drop_only=True)
            except Exception as exc:
                print(f"could not drop {db}: {exc!r}", flush=True)
        if self._vhost_made:
            _rabbitmqctl("delete_vhost", self.vhost, check=False)
            self._vhost_made = False
        self.processes, self.extra = {}, []

    def pids(self):
        return {name: p.process.pid for name, p in self.processes.items()}

    # ---- accounts through the API ---------------------------------------------------------

    def call(self, session, method, path, token=None, expect=(200,), **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = session.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def person(self, session, role):
        """Registered, its e-mail confirmed by the operator command (the bench reads no mailbox)."""
        email = f"{role}-{uuid.uuid4().hex[:12]}@bench.local"
        self.call(
            session,
            "POST",
            "/api/v1/auth/register",
            expect=(202,),
            json={"email": email, "password": PASSWORD, "role": role, "first_name": "Bench", "last_name": role.title()},
        )
        env = dict(os.environ, IDENTITY_DATABASE_URL=self.database_url("identity"))
        subprocess.run(
            [sys.executable, "-W", "ignore", "-m", "services.identity.admin", "verify-email", "--email", email],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        token = self.call(session, "POST", "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
        return token["user"], token["access_token"]

    def moderator(self, session):
        """As tests/e2e do: the identity operator command (moderators never register)."""
        email = f"moderator-{uuid.uuid4().hex[:8]}@bench.local"
        env = dict(os.environ, IDENTITY_DATABASE_URL=self.database_url("identity"))
        subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                "-m",
                "services.identity.admin",
                "create-moderator",
                "--email",
                email,
                "--password",
                PASSWORD,
                "--first-name",
                "Maria",
                "--last-name",
                "Moderova",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.call(session, "POST", "/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD})[
            "access_token"
        ]

    def accredited_mentor(self, session, moderator_token, rubrics, capacity=50):
        """As tests/e2e platform.mentor(): profile, availability, application, approval."""
        user, token = self.person(session, "mentor")
        self.call(
            session, "PUT", "/api/v1/me/mentor-profile", token=token, json={"rubrics": rubrics, "accepting_cases": True}
        )
        self.call(session, "PUT", "/api/v1/me/availability", token=token, json={"capacity": capacity})
        applied = self.call(
            session,
            "POST",
            "/api/v1/me/accreditation",
            token=token,
            expect=(201,),
            json={
                "experience": "Years of teaching and of supervising student teachers.",
                "motivation": "To help novice teachers through their first years at school.",
            },
        )
        self.call(
            session,
            "POST",
            f"/api/v1/accreditation/applications/{applied['application']['id']}/approve",
            token=moderator_token,
        )
        return user


def schedstat(pid):
    """(seconds on a CPU, seconds runnable but waiting for one) of ``pid`` so far (all its threads)."""
    total_run = total_wait = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tasks:
        try:
            run, wait, _ = open(f"/proc/{pid}/task/{tid}/schedstat").read().split()
        except (OSError, ValueError):
            continue
        total_run += int(run) / 1e9
        total_wait += int(wait) / 1e9
    return total_run, total_wait


def rss_kb(pid):
    """VmRSS of ``pid`` in kB (the `nameko run` process itself: it runs the service in-process)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def append_result(benchmark, workload, figure, baseline, ratio, load_before, load_after, postgres=DEFAULT_POSTGRES):
    """One bench/RESULTS.md row through bench/results.py."""
    from results import append_result as append
    from results import machine

    append(
        benchmark,
        workload,
        figure,
        baseline,
        ratio,
        machine(server_url(postgres, "postgres"), (load_before, load_after)),
    )


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
