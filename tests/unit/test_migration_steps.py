"""The pure parts of services/common/migrations.py and the histories themselves: how a history's files
become its order, what a database lacks, what a refusal says, and the URL the steps connect with."""

from urllib.parse import parse_qs, urlsplit

import pytest

from services.common import migrations
from services.common.library_internals.yoyo_history import backend_url


def test_steps_are_ordered_by_number_whatever_the_listing_order():
    names = ["0002_add_column.py", "0010_last.py", "0001_schema.py"] + [f"{n:04d}_s.py" for n in range(3, 10)]
    assert migrations.step_ids(names)[:3] == ["0001_schema", "0002_add_column", "0003_s"]
    assert migrations.step_ids(names)[-1] == "0010_last"


def test_files_that_are_not_python_are_not_steps():
    assert migrations.step_ids(["0001_schema.py", "__pycache__", "README.md"]) == ["0001_schema"]


@pytest.mark.parametrize(
    "names",
    [
        ["0001_schema.py", "0003_skipped_two.py"],  # a gap
        ["0001_schema.py", "0002_one.py", "0002_other.py"],  # two helpers' step 2
        ["0002_no_first.py"],
    ],
)
def test_a_history_that_is_not_1_2_3_is_refused(names):
    with pytest.raises(migrations.HistoryError, match="numbered"):
        migrations.step_ids(names)


@pytest.mark.parametrize("name", ["1_schema.py", "0001-schema.py", "0001_Schema.py", "__init__.py", "0001.py"])
def test_a_step_file_is_named_four_digits_and_a_lowercase_name(name):
    with pytest.raises(migrations.HistoryError, match="NNNN_what_it_does.py"):
        migrations.step_ids([name])


def test_pending_steps_are_those_not_applied_in_history_order():
    history = ["0001_schema", "0002_add", "0003_more"]
    assert migrations.pending_ids(history, {"0001_schema"}) == ["0002_add", "0003_more"]
    assert migrations.pending_ids(history, set(history)) == []
    assert migrations.pending_ids(history, set()) == history


def test_the_refusal_names_the_service_the_steps_and_the_command():
    message = migrations.behind_message("identity", ["0002_questionnaire_phone"])
    assert "identity" in message and "0002_questionnaire_phone" in message
    assert "python -m services.common.migrations apply identity" in message
    assert "docker compose run --rm migrate" in message and "MIGRATE_ON_START" in message


@pytest.mark.parametrize(
    "value,expected",
    [(None, True), ("true", True), ("True", True), (True, True), ("false", False), (False, False), ("0", False)],
)
def test_migrate_on_start_is_true_unless_turned_off(value, expected):
    config = {} if value is None else {"MIGRATE_ON_START": value}
    assert migrations.migrate_on_start(config) is expected


def test_a_services_database_is_its_own_variable_else_the_local_default():
    assert migrations.database_url("cases", {"CASES_DATABASE_URL": "postgresql://c@db/x"}) == "postgresql://c@db/x"
    assert migrations.database_url("library", {}) == "postgresql://postgres@127.0.0.1:5432/mentor_library"


def test_the_steps_connect_with_a_bounded_lock_wait_and_keep_the_urls_own_arguments():
    url = backend_url("postgresql://mentor-cases:p%40ss@db:5432/mentor_cases?sslmode=require&options=-c%20x%3D1", 5)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("postgresql", "mentor-cases:p%40ss@db:5432", "/mentor_cases")
    assert parse_qs(parts.query) == {"sslmode": ["require"], "options": ["-c lock_timeout=5000"]}


@pytest.mark.parametrize("service", migrations.SERVICES)
def test_every_services_history_is_numbered_and_holds_sql(service):
    steps = migrations.history(migrations.history_directory(service))
    assert steps[0] == "0001_schema_of_2026_12"
    statements = migrations.statements(service)
    assert statements and all(isinstance(s, str) and s.strip() for s in statements)
    assert any("CREATE TABLE IF NOT EXISTS" in s for s in statements)


@pytest.mark.parametrize("service", migrations.SERVICES)
def test_the_first_step_holds_the_common_tables_its_service_uses(service):
    created = " ".join(migrations.statements(service))
    assert "CREATE TABLE IF NOT EXISTS accepted_jtis" in created  # every one is an RPC server
    publishes = service in ("identity", "cases", "matching", "library")
    assert ("CREATE TABLE IF NOT EXISTS relay_position" in created) == publishes
