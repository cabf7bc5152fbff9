"""Helpers shared by the tests: polling without sleeps that hide failures, sample data."""

import socket
import time
import uuid

from contracts.case_form import example_case_form


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def eventually(check, timeout=15.0, interval=0.1, message="condition not met", explain=None):
    """Call ``check`` until it returns a truthy value (returned) or ``timeout`` passes (fails; the
    failure ends with ``explain()``, what the test knows about why, if given)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # not there yet (e.g. NotFound); the last one is reported
            last_error = exc
        time.sleep(interval)
    raise AssertionError(
        f"{message} within {timeout}s"
        + (f": {last_error!r}" if last_error else "")
        + (f"; {explain()}" if explain else "")
    )


def case_form(**overrides):
    return example_case_form(**overrides)


def actor(role, user_id=None):
    return {"user_id": user_id or str(uuid.uuid4()), "role": role}


def mentor_snapshot(mentor_id, rubrics, **overrides):
    """A MentorProfileUpdated v2 payload as identity publishes it: by default an accredited mentor
    accepting cases, capacity 3, never away (matching proposes only accredited mentors)."""
    payload = {
        "mentor_id": mentor_id,
        "rubrics": list(rubrics),
        "accepting_cases": True,
        "accredited": True,
        "capacity": 3,
        "away_periods": [],
    }
    payload.update(overrides)
    return payload


def run_research(*argv):
    """``mentor-research`` in this process: (exit code, what it printed)."""
    import io

    from research.cli import main

    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def write_history(directory, *steps):
    """A schema history in ``directory`` (a pathlib.Path): one yoyo step file per item of ``steps``, each a
    list of SQL statements, numbered 0001, 0002 ... (services/common/migrations.py reads it)."""
    directory.mkdir(parents=True, exist_ok=True)
    for number, statements in enumerate(steps, start=1):
        body = "".join(f"    step({statement!r}),\n" for statement in statements)
        (directory / f"{number:04d}_step.py").write_text(f"from yoyo import step\n\nsteps = [\n{body}]\n")
    return directory
