"""The whole test suite in two pytest sessions side by side ("lanes"), the command CI runs.

    .venv/bin/python scripts/run_tests.py [pytest options]      # every test, in LANES
    .venv/bin/python scripts/run_tests.py tests/unit -x         # paths given: one plain pytest session

Why lanes and not pytest-xdist: the test process is monkey-patched by eventlet (tests/conftest.py: the
in-process nameko services need it), and xdist's workers talk to their controller over execnet threads
that eventlet's patching breaks: `pytest -n 2` hangs before its first test (pytest-dev/pytest-xdist#71,
measured here with xdist 3.8). Two ordinary pytest sessions need nothing of the kind: each already has
its own RabbitMQ vhost, its own databases, SMTP catcher and ports (tests/conftest.py), so two run on one
machine as two developers' runs would.

Much of a run is waiting (services starting, a browser page, a container's health check, an
``eventually``), so two lanes on this 2-core machine finish in well under the serial time. The lanes are
cut by folders (a session's shared platform and browser client start once a lane, not once a module),
balanced by the time each folder took in CI (junit), serial: integration 16.6 min, browser 10.1,
deploy 7.6, faults 5.8, unit 1.3, e2e 1.0, security 0.8 (43.6 min one after the other). Side by side,
with nothing else on the machine (a fresh clone's `.ci/run`, 2026-12-07): lane a 23 min 48 s, lane b
26 min 27 s, the whole `.ci/run` with its installs and linters 28 min 04 s.

Each lane's lines are printed as they come, prefixed with the lane's name; ``--junitxml=PATH`` gives
each lane its own report (PATH with ``.<lane>`` before the suffix); the exit status is the first
lane's failure (pytest's code), else 0 (a lane the options leave without tests is no failure). SIGTERM or SIGINT (CI's timeout) stops both lanes.
"""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTHING_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED

# Lane name -> the folders it runs, in order. tests/e2e before tests/integration, as in pytest's own
# order: the e2e platform uses the session's databases and its modules assume they hold nothing of the
# integration modules' (mentors in their rubrics, library entries, applications waiting).
LANES = {
    "a": ["tests/e2e", "tests/integration", "tests/security", "tests/anonymization", "tests/unit"],
    "b": ["tests/deploy", "tests/browser", "tests/faults"],
}


def names_paths(args):
    """Whether the pytest arguments choose tests themselves (a path or node id): then no lanes."""
    for arg in args:
        if not arg.startswith("-") and (ROOT / arg.split("::", 1)[0]).exists():
            return True
    return False


def lane_args(lane, args):
    """The pytest arguments of one lane: its folders, and a --junitxml of its own."""
    out = []
    for arg in args:
        if arg.startswith("--junitxml="):
            path = Path(arg.split("=", 1)[1])
            arg = f"--junitxml={path.with_name(f'{path.stem}.{lane}{path.suffix}')}"
        out.append(arg)
    return [*out, *LANES[lane]]


def _pump(name, stream, lock):
    for line in iter(stream.readline, ""):
        with lock:
            sys.stdout.write(f"[{name}] {line}")
            sys.stdout.flush()
    stream.close()


def run_lanes(args):
    pytest = [sys.executable, "-m", "pytest"]
    lock = threading.Lock()
    processes, pumps = {}, []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for lane in LANES:
        process = subprocess.Popen(
            [*pytest, *lane_args(lane, args)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        processes[lane] = process
        pump = threading.Thread(target=_pump, args=(lane, process.stdout, lock), daemon=True)
        pump.start()
        pumps.append(pump)

    def stop(signum, _frame):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = {lane: process.wait() for lane, process in processes.items()}
    for pump in pumps:
        pump.join()
    for lane, code in codes.items():
        print(f"lane {lane} ({' '.join(LANES[lane])}): exit {code}")
    # 5 is pytest's "no tests collected": a lane the options left empty (-m "not slow" empties lane b)
    failed = [code for code in codes.values() if code not in (0, NOTHING_COLLECTED)]
    if failed:
        return failed[0]
    return NOTHING_COLLECTED if all(code == NOTHING_COLLECTED for code in codes.values()) else 0


def main(argv):
    if names_paths(argv):
        return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)
    return run_lanes(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
