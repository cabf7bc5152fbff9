"""The platform as a Docker Swarm stack (deploy/stack.yml, made by operations/stack.py), for
tests/deploy/test_swarm_stack.py: a one-node swarm on this machine's engine, the stack deployed with a
generated strong environment, and a probe container of the project's own image on the stack's overlay
network (tests/deploy/swarm_probe.py) that forwards ports on 127.0.0.1 to the replicas of the gateway
and the mail catcher, and scrapes each replica's metrics. The test talks to 127.0.0.1 and to the
project's own containers, nothing else.
"""

import json
import os
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from operations.stack import STACK_FILE
from tests.deploy.compose_stack import PlatformStack
from tests.processes import ROOT
from tests.support import eventually

PROBE = ROOT / "tests" / "deploy" / "swarm_probe.py"
FORWARDED = {"gateway": 8000, "mailpit": 8025, "web": 8080}  # service: its port, forwarded by the probe


def docker(*args, check=True, timeout=300, env=None, input=None):
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env, input=input)
    assert not check or done.returncode == 0, f"docker {' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done


def swarm_state():
    """The engine's swarm state: inactive, active, pending, ..."""
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


def build_app_image(tag, python_image):
    """deploy/Dockerfile on the given base, under a tag of the test's own (other runs may build :latest)."""
    docker(
        "build",
        "--quiet",
        "--file",
        str(ROOT / "deploy" / "Dockerfile"),
        "--build-arg",
        f"PYTHON_IMAGE={python_image}",
        "--tag",
        tag,
        str(ROOT),
        timeout=1800,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},  # the classic builder: BuildKit is not in Debian's engine
    )


def metric_samples(text):
    """{(name, frozenset(labels)): value} of one /metrics text."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric_sum(samples, name, **labels):
    """The sum of ``name`` over every series whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(
        value for (sample, sample_labels), value in samples.items() if sample == name and wanted <= sample_labels
    )


class SwarmStack(PlatformStack):
    """One stack on the swarm, named ``name``; ``env`` is what `docker stack deploy` interpolates."""

    def __init__(self, name, env):
        super().__init__(env, ports={})
        self.name = name
        self.probe = f"{name}-probe"

    def deploy_env(self):
        """Only the stack's variables and what the docker client needs: nothing of the test's own."""
        keep = {name: os.environ[name] for name in ("PATH", "HOME", "DOCKER_HOST") if name in os.environ}
        return {**keep, **self.env}

    def deploy(self):
        docker(
            "stack",
            "deploy",
            "--resolve-image",
            "never",
            "--compose-file",
            str(STACK_FILE),
            self.name,
            env=self.deploy_env(),
            timeout=300,
        )

    def services(self):
        """{service: (running replicas, desired replicas)} of the stack (a task counts as running once healthy)."""
        lines = docker(
            "service",
            "ls",
            "--filter",
            f"label=com.docker.stack.namespace={self.name}",
            "--format",
            "{{.Name}} {{.Replicas}}",
        ).stdout.split("\n")
        found = {}
        for line in filter(None, lines):
            name, replicas = line.split()[:2]
            running, desired = replicas.split("/")[:2]
            found[name.removeprefix(f"{self.name}_")] = (int(running), int(desired.split()[0]))
        return found

    def task_states(self, service):
        """The current state of each of the service's tasks, newest first (Running, Complete, Failed ...)."""
        lines = docker("service", "ps", "--no-trunc", "--format", "{{.CurrentState}}", f"{self.name}_{service}").stdout
        return [line.split()[0] for line in lines.splitlines() if line.strip()]

    def not_ready(self, one_shots):
        """The services short of their replicas, and the one-shots not complete."""
        waiting = []
        for service, (running, desired) in self.services().items():
            if service in one_shots:
                if "Complete" not in self.task_states(service):
                    waiting.append(service)
            elif running != desired:
                waiting.append(f"{service} {running}/{desired}")
        return sorted(waiting)

    def containers(self, service):
        """{address on the stack's network: container id} of the service's running containers."""
        ids = docker(
            "ps",
            "--quiet",
            "--filter",
            f"label=com.docker.swarm.service.name={self.name}_{service}",
            "--filter",
            "status=running",
        ).stdout.split()
        found = {}
        for container in ids:
            networks = json.loads(docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", container).stdout)
            network = networks.get(f"{self.name}_default")
            if network and network.get("IPAddress"):
                found[network["IPAddress"]] = container
        return found

    def exec(self, service, *command, env=None, input=None, timeout=120):
        containers = list(self.containers(service).values())
        assert containers, f"no running container of {service}"
        options = [f"--env={name}={value}" for name, value in (env or {}).items()]
        return docker("exec", "-i", *options, containers[0], *command, input=input, timeout=timeout)

    def log_text(self, service):
        """Every container's of the service, running or gone (`docker service logs` hung on this engine
        for a service with tasks replaced), stdout and stderr, as `docker-compose logs` gives both."""
        containers = docker(
            "ps", "--all", "--quiet", "--filter", f"label=com.docker.swarm.service.name={self.name}_{service}"
        ).stdout.split()
        texts = []
        for container in containers:
            done = docker("logs", container, check=False, timeout=60)
            texts.append(done.stdout + done.stderr)
        return "".join(texts)

    def start_probe(self):
        """The probe container: forwards 127.0.0.1 ports to the gateway, the mail catcher and the browser
        client by DNS round-robin; ``ports`` then holds them."""
        published = [option for port in FORWARDED.values() for option in ("--publish", f"127.0.0.1::{port}")]
        routes = [f"{port}={service}:{port}" for service, port in FORWARDED.items()]
        image = self.env["PLATFORM_IMAGE"]
        docker(
            "run",
            "--detach",
            "--init",
            "--name",
            self.probe,
            "--network",
            f"{self.name}_default",
            *published,
            "--volume",
            f"{PROBE}:/probe/swarm_probe.py:ro",
            image,
            "python",
            "/probe/swarm_probe.py",
            "forward",
            *routes,
        )
        for service, port in FORWARDED.items():
            address = docker("port", self.probe, str(port)).stdout.split()[0]
            self.ports[service] = int(address.rsplit(":", 1)[1])

    def scrape(self, service):
        """{address: metric samples} of every replica of the service now, through the probe."""
        done = docker("exec", self.probe, "python", "/probe/swarm_probe.py", "scrape", service, "9100", timeout=120)
        return {address: metric_samples(text) for address, text in json.loads(done.stdout).items()}

    def remove(self):
        """`docker stack rm`, then until its containers and network are gone (bounded), then its
        volumes, the probe and the config."""
        docker("rm", "--force", self.probe, check=False)
        docker("stack", "rm", self.name, check=False, timeout=300)
        label = f"label=com.docker.stack.namespace={self.name}"
        eventually(
            lambda: (
                not docker("ps", "--all", "--quiet", "--filter", label).stdout.strip()
                and not docker("network", "ls", "--quiet", "--filter", label).stdout.strip()
            ),
            timeout=300,
            interval=2,
            message=f"stack {self.name} removed",
        )
        for volume in docker("volume", "ls", "--quiet", "--filter", label).stdout.split():
            for _ in range(10):  # a volume is released a moment after its container is gone
                if docker("volume", "rm", volume, check=False).returncode == 0:
                    break
                time.sleep(2)
            else:
                raise AssertionError(f"volume {volume} of stack {self.name} not removed")
