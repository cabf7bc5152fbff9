"""scripts/run_tests.py, the command CI runs: its lanes leave no test folder out and run none twice,
each lane writes its own junit report, and paths chosen by hand run as one plain pytest session."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("mentor_run_tests", ROOT / "scripts" / "run_tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_tests = _load()


def test_every_folder_of_tests_is_in_exactly_one_lane():
    with_tests = sorted(
        f"tests/{folder.name}"
        for folder in (ROOT / "tests").iterdir()
        if folder.is_dir() and any(folder.glob("test_*.py"))
    )
    in_lanes = sorted(path for paths in run_tests.LANES.values() for path in paths)
    assert in_lanes == with_tests


def test_folders_keep_pytests_own_order_within_a_lane():
    """Modules of some folders assume the session's databases as pytest's order leaves them (tests/e2e
    before tests/integration: its platform uses the session's databases)."""
    for paths in run_tests.LANES.values():
        shared = [path for path in paths if path in ("tests/e2e", "tests/faults", "tests/integration")]
        assert shared == sorted(shared), paths


def test_tests_at_the_root_of_tests_would_be_noticed():
    assert not list((ROOT / "tests").glob("test_*.py"))  # no lane runs them: put them in a folder


def test_each_lane_writes_its_own_junit_report_and_keeps_the_other_options():
    args = run_tests.lane_args("b", ["-q", "--junitxml=/tmp/ci/report.xml", "-m", "not slow"])
    assert args == ["-q", "--junitxml=/tmp/ci/report.b.xml", "-m", "not slow", *run_tests.LANES["b"]]


def test_paths_or_node_ids_given_choose_a_plain_session():
    assert run_tests.names_paths(["-q", "tests/unit"])
    assert run_tests.names_paths(["tests/unit/test_run_tests.py::test_paths_or_node_ids_given_choose_a_plain_session"])
    assert not run_tests.names_paths(["-q", "-m", "not slow", "-p", "no:warnings", "-k", "erasure"])
