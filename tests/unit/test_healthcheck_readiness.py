"""The container health check reads its own process's readiness from the metrics page
(services/common/healthcheck.py; on a real process: tests/integration/test_health_check.py)."""

from services.common import healthcheck


def test_readiness_is_read_per_service_and_database_from_the_metrics_page():
    page = (
        "# HELP mentor_service_ready 1 when the service's database answers within 2 s\n"
        'mentor_service_ready{database="mentor_cases",service="cases"} 1.0\n'
        'mentor_service_ready{database="mentor_other",service="matching"} 0.0\n'
        'mentor_relay_leading{service="cases",source="cases"} 1.0\n'
    )
    assert healthcheck.readiness_of(page, "cases") == {"mentor_cases": 1.0}
    assert healthcheck.readiness_of(page, "matching") == {"mentor_other": 0.0}
    assert healthcheck.readiness_of(page, "library") == {}
