"""Local runner: every service as its own `nameko run` process, on this machine.

    .venv/bin/python scripts/platform.py up            # start PostgreSQL/RabbitMQ if down, the services, demo data
    .venv/bin/python scripts/platform.py status        # which processes run, what /ready says
    .venv/bin/python scripts/platform.py logs [SERVICE] [-n N] [-f]
    .venv/bin/python scripts/platform.py demo          # load the demo accounts again (idempotent)
    .venv/bin/python scripts/platform.py down          # SIGTERM, wait, then SIGKILL

Logs go to .run/logs/<service>.log (structlog JSON), pids to .run/pids/<service>.pid.
Each service talks to RabbitMQ as its own user with the least permissions it needs
(services/common/broker_users.py): `up` creates them with `rabbitmqctl import_definitions`, from
the admin AMQP_URI below, with generated passwords kept in .run/broker/<service>.password.
Each process gets the variables its config.yaml reads: the value from this shell's
environment when set, else the config.yaml default (SERVICES/ENV_DEFAULTS in runner_table.py; the
docker-compose.yml and .env.example use the same names, tests/unit/test_deployment.py
keeps the three in step). The runner never reads .env: that file is for docker compose,
whose hosts are `postgres` and `rabbitmq`.

This file is the command line; the runner's parts are its sibling modules, by what they do:
runner_table.py (services, commands, variables), runner_processes.py (pid and log files),
runner_infrastructure.py (PostgreSQL, RabbitMQ, broker users, SMTP catcher), runner_supervisor.py
(up, down, status, logs, demo), runner_demo.py (the demo accounts), runner_walkthrough.py (the text
`up` prints). Only the standard library and requests; the modules import without side effects.
"""

import os
import sys

# Run as `python scripts/platform.py`, this folder is sys.path[0] and this file would
# shadow the standard library's `platform` module for everything imported after it:
# the folder goes last instead, where only the runner's own modules (runner_*.py) are found in it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.append(_HERE)

import argparse  # noqa: E402

from runner_supervisor import cmd_demo, cmd_down, cmd_logs, cmd_status, cmd_up  # noqa: E402
from runner_table import SERVICES  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="scripts/platform.py", description="Run the mentoring platform locally, one process per service."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start PostgreSQL/RabbitMQ if down, every service, load the demo data")
    commands.add_parser("down", help="stop every service (SIGTERM, then SIGKILL)")
    commands.add_parser("status", help="which services run, and the gateway's /ready")
    logs = commands.add_parser("logs", help="the end of the services' logs")
    logs.add_argument("service", nargs="?", choices=list(SERVICES))
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    commands.add_parser("demo", help="load the demo accounts again (idempotent)")
    args = parser.parse_args(argv)
    handler = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "logs": cmd_logs, "demo": cmd_demo}
    return handler[args.command](args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
