"""Drift between the services, the local runner, docker-compose.yml and .env.example.

Pure: reads files only. A service or a variable added in one place and not the others
fails here, with the place to fix named in the message.
"""

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = ROOT / "services"
INFRASTRUCTURE = ("rabbitmq", "postgres", "mailpit")  # mailpit: the demo's mail catcher
# run once per `up`: the services' broker users (tests/unit/test_broker_permission_table.py), and every
# database brought to the head of its service's schema history (services/common/migrations.py)
ONE_SHOT = ("broker-setup", "migrate")
# ${NAME} or ${NAME:default}, as nameko reads config.yaml (the default runs to the first "}")
CONFIG_VAR = re.compile(r"\$\{([^}:\s]+)(?::([^}]*))?\}")
# ${NAME}, ${NAME:-default}, ${NAME:?message}, ... as compose interpolates
COMPOSE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def _load_runner():
    # by path: the file is named platform.py, which must not shadow the standard library's module;
    # loading it puts scripts/ last on sys.path, where its parts (scripts/runner_*.py) are found
    spec = importlib.util.spec_from_file_location("mentor_platform_runner", ROOT / "scripts" / "platform.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_load_runner()
runner = importlib.import_module("runner_table")  # the services, their commands and variables
supervisor = importlib.import_module("runner_supervisor")
processes = importlib.import_module("runner_processes")
infrastructure = importlib.import_module("runner_infrastructure")


def service_names():
    """Every process of the platform: the nameko services (service.py) and the browser client (web),
    each with the config.yaml that names its settings."""
    return sorted(p.parent.name for p in SERVICES_DIR.glob("*/config.yaml") if p.parent.name != "common")


def nameko_service_names():
    """The nameko services alone (each runs `nameko run services.<name>.service`)."""
    return sorted(p.parent.name for p in SERVICES_DIR.glob("*/service.py") if p.parent.name != "common")


def config_vars(service):
    """{variable: default} of every ${...} in services/<service>/config.yaml."""
    text = (SERVICES_DIR / service / "config.yaml").read_text()
    return {name: default for name, default in CONFIG_VAR.findall(text)}


def env_example():
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not NAME=value"
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def compose_text():
    return (ROOT / "docker-compose.yml").read_text()


def compose_service(compose, service):
    assert service in compose["services"], f"docker-compose.yml has no service {service!r}"
    return compose["services"][service]


def _command_args(value):
    return shlex.split(value) if isinstance(value, str) else list(value)


def test_services_are_found():
    assert {"cases", "matching", "notifications", "library"} <= set(service_names())


def test_every_service_is_in_the_runner_and_in_compose(compose):
    found = set(service_names())
    assert set(runner.SERVICES) == found, "scripts/runner_table.py SERVICES must list exactly the services/ folders"
    missing = found - set(compose["services"])
    assert not missing, f"docker-compose.yml has no service for {sorted(missing)}"
    extra = set(compose["services"]) - found - set(INFRASTRUCTURE) - set(ONE_SHOT)
    assert not extra, f"docker-compose.yml runs {sorted(extra)}, which are not services/ folders"


@pytest.mark.parametrize("service", service_names())
def test_compose_command_is_the_runners(compose, service):
    expected = (
        "python -m services.web"
        if service == "web"
        else f"nameko run --config services/{service}/config.yaml services.{service}.service"
    )
    assert runner.command(service) == expected
    assert _command_args(compose_service(compose, service)["command"]) == shlex.split(expected)


@pytest.mark.parametrize("service", service_names())
def test_compose_sets_every_config_variable(compose, service):
    environment = compose_service(compose, service).get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    missing = set(config_vars(service)) - set(environment)
    assert not missing, f"docker-compose.yml service {service} does not set {sorted(missing)}"


@pytest.mark.parametrize("service", service_names())
def test_runner_sets_every_config_variable_with_its_default(service):
    wanted = config_vars(service)
    assert service in runner.SERVICES, f"scripts/runner_table.py SERVICES has no {service!r}"
    env = runner.service_env(service, environ={})
    missing = set(wanted) - set(env)
    assert not missing, f"scripts/runner_table.py SERVICES[{service!r}] does not set {sorted(missing)}"
    unused = set(env) - set(wanted)
    assert not unused, f"scripts/runner_table.py sets {sorted(unused)} for {service}, which its config.yaml never reads"
    for name, default in wanted.items():
        assert env[name] == default, (
            f"{name}: the runner's default {env[name]!r} differs from services/{service}/config.yaml's {default!r}"
        )


def test_runner_env_defaults_are_all_used():
    used = {name for service in service_names() for name in config_vars(service)}
    assert set(runner.ENV_DEFAULTS) == used, (
        f"scripts/runner_table.py ENV_DEFAULTS lacks {sorted(used - set(runner.ENV_DEFAULTS))} "
        f"and has unused {sorted(set(runner.ENV_DEFAULTS) - used)}"
    )


def test_runner_env_takes_the_callers_values():
    env = runner.service_env("cases", environ={"CASES_DATABASE_URL": "postgresql://x@db:5432/c"})
    assert env["CASES_DATABASE_URL"] == "postgresql://x@db:5432/c"
    assert env["AMQP_URI"] == runner.ENV_DEFAULTS["AMQP_URI"]


def test_every_env_example_variable_is_used(compose_text):
    used = set(COMPOSE_VAR.findall(compose_text))
    unused = set(env_example()) - used
    assert not unused, f".env.example documents {sorted(unused)}, which docker-compose.yml never uses"


def test_every_compose_variable_is_documented_in_env_example(compose_text):
    undocumented = set(COMPOSE_VAR.findall(compose_text)) - set(env_example())
    assert not undocumented, f"docker-compose.yml reads {sorted(undocumented)}, missing from .env.example"


def test_every_env_example_variable_has_a_comment():
    """Each variable, or each run of adjacent variables, comes right after a comment."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    is_var = lambda line: bool(line.strip()) and not line.lstrip().startswith("#")  # noqa: E731
    for i, line in enumerate(lines):
        if is_var(line):
            j = i - 1
            while j >= 0 and is_var(lines[j]):
                j -= 1
            assert j >= 0 and lines[j].lstrip().startswith("#"), (
                f".env.example: {line.split('=')[0]} has no comment above it"
            )


def test_env_example_points_at_the_compose_hosts(compose):
    values = env_example()
    for service in nameko_service_names():  # each its own broker user: tests/unit/test_broker_permission_table.py
        uri = re.sub(r"\$\{[^}]*\}", "PASSWORD", compose["services"][service]["environment"]["AMQP_URI"])
        assert urlsplit(uri).hostname == "rabbitmq"
    database_vars = {name for s in service_names() for name in config_vars(s) if name.endswith("_DATABASE_URL")}
    for name in database_vars:
        url = urlsplit(values[name])
        assert url.hostname == "postgres", f"{name} must point at host postgres"
        assert url.path.lstrip("/"), f"{name} names no database"
    names = [urlsplit(values[name]).path.lstrip("/") for name in database_vars]
    assert len(set(names)) == len(names), "every service needs its own database"


def test_postgres_init_creates_every_services_database(compose):
    """deploy/postgres/init.sh creates one database per *_DATABASE_URL: it must see and loop over each."""
    database_vars = {name for s in service_names() for name in config_vars(s) if name.endswith("_DATABASE_URL")}
    postgres_env = compose["services"]["postgres"]["environment"]
    assert database_vars <= set(postgres_env), "the postgres service needs every *_DATABASE_URL for its init script"
    script = (ROOT / "deploy" / "postgres" / "init.sh").read_text()
    for name in database_vars:
        assert name in script, f"deploy/postgres/init.sh does not create the database of {name}"
    mounts = " ".join(compose["services"]["postgres"].get("volumes", []))
    assert "deploy/postgres/init.sh:/docker-entrypoint-initdb.d/" in mounts


@pytest.mark.parametrize("service", service_names() + list(INFRASTRUCTURE))
def test_every_container_has_a_healthcheck_and_restart_policy(compose, service):
    spec = compose_service(compose, service)
    assert spec.get("restart") == "unless-stopped", f"{service} has no restart: unless-stopped"
    test = (spec.get("healthcheck") or {}).get("test")
    assert test, f"{service} has no healthcheck"


@pytest.mark.parametrize("service", service_names())
def test_service_healthcheck_asks_that_service(compose, service):
    test = (compose_service(compose, service).get("healthcheck") or {}).get("test") or []
    args = shlex.split(test) if isinstance(test, str) else [a for a in test if a not in ("CMD", "CMD-SHELL")]
    assert args and args[-1] == service and "services.common.healthcheck" in args, (
        f"{service}'s healthcheck must be `python -m services.common.healthcheck {service}`"
    )


@pytest.mark.parametrize("service", service_names())
def test_services_wait_for_healthy_infrastructure(compose, service):
    spec = compose_service(compose, service)
    depends_on = spec.get("depends_on") or {}
    if service == "web":  # a client of the gateway only: no broker, no database
        assert list(depends_on) == ["gateway"]
        return
    assert depends_on.get("rabbitmq", {}).get("condition") == "service_healthy"
    uses_database = any(name.endswith("_DATABASE_URL") for name in config_vars(service))
    if uses_database:
        assert depends_on.get("postgres", {}).get("condition") == "service_healthy"


def test_gateway_port_is_published(compose):
    ports = [str(p) for p in compose["services"]["gateway"].get("ports", [])]
    assert any(p.endswith(":8000") for p in ports)


def test_the_browser_client_is_published_and_shares_the_proxy_secret_with_the_gateway(compose):
    web, gateway = compose["services"]["web"], compose["services"]["gateway"]
    assert any(str(p).endswith(":8080") for p in web.get("ports", []))
    assert web["environment"]["GATEWAY_URL"] == "http://gateway:8000"
    assert web["environment"]["WEB_PROXY_SECRET"] == gateway["environment"]["WEB_PROXY_SECRET"]


@pytest.mark.parametrize("service", service_names())
def test_up_starts_each_service_with_its_command_and_variables(monkeypatch, tmp_path, service):
    """What `up` really hands to each process (Popen is replaced: nothing starts)."""
    started = {}

    class FakePopen:
        pid = 4242

        def __init__(self, args, **kwargs):
            started.update(args=args, **kwargs)

    monkeypatch.setattr(supervisor.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(processes, "LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(processes, "PID_DIR", str(tmp_path / "pids"))
    for name in runner.ENV_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    supervisor.start_service(service)
    assert started["args"][1:] == shlex.split(runner.command(service))[1:]
    assert started["args"][0].endswith("python" if service == "web" else "nameko") or (
        service == "web" and started["args"][0] == supervisor.sys.executable
    )
    env = started["env"]
    for name, default in config_vars(service).items():
        assert env.get(name) == default, f"`up` starts {service} without {name}={default!r}"
    assert (tmp_path / "pids" / f"{service}.pid").read_text().strip() == "4242"


def _app_services(compose):
    """Every compose service that runs the platform's own image: the services and the one-shots."""
    return service_names() + list(ONE_SHOT)


def test_the_app_image_is_built_once_and_run_by_every_service(compose):
    """Six builds of one Dockerfile took six times the time and could run six different images."""
    builders = [name for name in _app_services(compose) if compose_service(compose, name).get("build")]
    assert len(builders) == 1, f"the app image is built by {builders}: build it in one service, run it in all"
    build = compose_service(compose, builders[0])["build"]
    assert build["dockerfile"] == "deploy/Dockerfile"
    images = {compose_service(compose, name).get("image") for name in _app_services(compose)}
    assert images == {compose_service(compose, builders[0])["image"]}
    for name in _app_services(compose):
        if name not in builders:  # never pulled from a registry: the one built here
            assert compose_service(compose, name).get("pull_policy") == "never", name


@pytest.mark.parametrize(
    "service,default",
    [("postgres", "postgres:15"), ("rabbitmq", "rabbitmq:3.10-management"), ("mailpit", "axllent/mailpit:v1.27")],
)
def test_third_party_images_are_chosen_by_variables(compose, service, default):
    variable = f"{service.upper()}_IMAGE"
    assert compose_service(compose, service)["image"] == f"${{{variable}:-{default}}}"
    assert env_example()[variable] == default


def test_the_app_images_base_is_chosen_by_a_variable(compose):
    builder = next(name for name in _app_services(compose) if compose_service(compose, name).get("build"))
    assert compose_service(compose, builder)["build"]["args"]["PYTHON_IMAGE"] == "${PYTHON_IMAGE:-python:3.11-slim}"
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim\nFROM ${PYTHON_IMAGE}" in dockerfile
    assert re.search(r"^ENV LANG=C\.UTF-8", dockerfile, re.M), "the image must set LANG=C.UTF-8"


def test_the_image_resolves_names_with_the_systems_resolver():
    """eventlet's own resolver caches a name that does not exist yet: a service started before the
    broker's name existed (swarm orders nothing) kept failing to connect after it did (the swarm test)."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^ENV EVENTLET_NO_GREENDNS=yes$", dockerfile, re.M)


def test_postgres_is_healthy_only_once_it_listens_on_tcp(compose):
    """Without -h, pg_isready asks the Unix socket, which answers while the first start's init scripts
    still run on a server listening on nothing else: the services then found no databases."""
    test = " ".join(compose_service(compose, "postgres")["healthcheck"]["test"])
    assert re.search(r"pg_isready\b.*\s-h\s+127\.0\.0\.1\b", test), test


def test_the_databases_are_created_utf8_from_template0():
    script = (ROOT / "deploy" / "postgres" / "init.sh").read_text()
    assert "CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0" in script


def _seconds(duration):
    found = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(duration))
    assert found and any(found.groups()), f"unreadable duration {duration!r}"
    return int(found.group(1) or 0) * 60 + int(found.group(2) or 0)


@pytest.mark.parametrize("service", service_names())
def test_services_get_longer_than_their_own_grace_to_stop(compose, service):
    """Compose's default 10 s killed a service inside its own 30 s for finishing its workers."""
    grace = compose_service(compose, service).get("stop_grace_period")
    assert grace and _seconds(grace) > 30, f"{service}: stop_grace_period {grace!r}, want more than 30 s"


@pytest.mark.parametrize("service", service_names())
def test_services_run_under_an_init_that_hands_on_sigterm(compose, service):
    """As PID 1, a process without its own SIGTERM handler (the browser client's waitress) ignores it."""
    assert compose_service(compose, service).get("init") is True, f"{service} needs init: true"


@pytest.mark.parametrize("service", nameko_service_names())
def test_every_service_runs_in_the_container_whose_second_stop_waits_for_the_first(service):
    """Without it, a second SIGTERM during a graceful stop hung the process until SIGKILL
    (services/common/container.py; the processes themselves: tests/faults/test_sigterm.py)."""
    from nameko.containers import get_container_cls

    from services.common.container import GracefulContainer

    config = yaml.safe_load(re.sub(r"!\w+", "", (SERVICES_DIR / service / "config.yaml").read_text()))
    assert get_container_cls(config) is GracefulContainer, f"services/{service}/config.yaml: set SERVICE_CONTAINER_CLS"


def test_mailpits_page_is_published_on_the_loopback_only(compose):
    for port in compose_service(compose, "mailpit").get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"mailpit's unauthenticated page published as {port!r}"


def test_the_standins_script_chooses_exactly_the_compose_files_image_variables(compose_text):
    """deploy/standins/build.sh prints the .env lines choosing its images: one for each image variable."""
    script = (ROOT / "deploy" / "standins" / "build.sh").read_text()
    printed = set(re.findall(r'^echo "([A-Z_]+_IMAGE)=', script, re.M))
    assert printed == {name for name in COMPOSE_VAR.findall(compose_text) if name.endswith("_IMAGE")}


def database_services():
    """The services with a database of their own (a ``<SERVICE>_DATABASE_URL`` in their config.yaml)."""
    return [s for s in nameko_service_names() if any(v.endswith("_DATABASE_URL") for v in config_vars(s))]


def test_the_services_with_a_database_are_the_ones_with_a_schema_history():
    from services.common import migrations

    assert sorted(migrations.SERVICES) == database_services()
    for service in database_services():
        assert migrations.history(migrations.history_directory(service)), f"{service} has no schema history"


def test_the_migrate_one_shot_runs_every_history_on_each_services_own_database(compose):
    migrate = compose_service(compose, "migrate")
    assert _command_args(migrate["command"]) == ["python", *infrastructure.MIGRATE_COMMAND]  # what `up` runs
    assert migrate.get("restart") == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for service in database_services():
        variable = f"{service.upper()}_DATABASE_URL"
        assert migrate["environment"].get(variable) == compose_service(compose, service)["environment"][variable], (
            f"the migrate one-shot must run {service}'s history on {variable}, the database {service} uses"
        )


@pytest.mark.parametrize("service", database_services())
def test_each_service_with_a_database_starts_after_the_migrations_and_only_checks_them(compose, service):
    spec = compose_service(compose, service)
    assert spec["depends_on"].get("migrate") == {"condition": "service_completed_successfully"}, (
        f"docker-compose.yml: {service} must wait for the migrate one-shot to succeed"
    )
    assert str(spec["environment"].get("MIGRATE_ON_START")).lower() == "false", (
        f'docker-compose.yml: {service} must not run its history itself (MIGRATE_ON_START: "false")'
    )


def test_up_runs_the_histories_before_any_service_starts(monkeypatch):
    """`scripts/platform.py up` runs what compose's migrate runs, first, with the services' database URLs."""
    steps = []
    for name in ("ensure_postgres", "ensure_rabbitmq", "ensure_mail_catcher"):
        monkeypatch.setattr(supervisor, name, lambda name=name: steps.append(name))
    monkeypatch.setattr(supervisor, "ensure_broker_users", lambda: steps.append("ensure_broker_users") or {})
    monkeypatch.setattr(supervisor, "running_pid", lambda service: None)
    monkeypatch.setattr(supervisor, "reachable", lambda *args: False)

    def start(service, amqp_uri=None):
        steps.append(f"start {service}")
        raise SystemExit(0)  # the order up to the first start is what this test looks at

    monkeypatch.setattr(supervisor, "start_service", start)
    ran = []

    def run(args, **kwargs):
        ran.append((args, kwargs["env"]))
        steps.append("migrate")
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(infrastructure.subprocess, "run", run)
    monkeypatch.setenv("LIBRARY_DATABASE_URL", "postgresql://someone@db:5432/library_elsewhere")
    with pytest.raises(SystemExit):
        supervisor.cmd_up(None)
    assert steps.index("migrate") < steps.index(next(s for s in steps if s.startswith("start ")))
    [(args, env)] = ran
    assert args[-len(infrastructure.MIGRATE_COMMAND) :] == list(infrastructure.MIGRATE_COMMAND)
    assert env["LIBRARY_DATABASE_URL"] == "postgresql://someone@db:5432/library_elsewhere"
    for service in database_services():
        assert f"{service.upper()}_DATABASE_URL" in env


def test_up_stops_when_the_migrations_fail(monkeypatch):
    monkeypatch.setattr(infrastructure.subprocess, "run", lambda args, **kwargs: subprocess.CompletedProcess(args, 1))
    with pytest.raises(SystemExit, match="no service was started"):
        infrastructure.migrate_databases()
