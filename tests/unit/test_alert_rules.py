"""The shipped alerting rules (deploy/prometheus/alerts.yml) name only metrics the services export."""

import os
import re

import yaml

from services.common import metrics

RULES = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "prometheus", "alerts.yml")
SUFFIXES = ("_total", "_count", "_sum", "_bucket", "_created")


def exported_names():
    names = set()
    for collector in (
        metrics.WORKER_SECONDS,
        metrics.HTTP_REQUESTS,
        metrics.HTTP_SECONDS,
        metrics.DELIVERIES,
        metrics.REDELIVERIES,
        metrics.PARKED,
        metrics.EMAILS,
    ):
        for family in collector.describe():
            names.update(family.name + suffix for suffix in ("",) + SUFFIXES)
    names.update(family.name for family in metrics.SCRAPED.collect())
    return names


def test_every_rule_names_exported_metrics_and_the_four_required_conditions_are_there():
    with open(RULES, encoding="utf-8") as stream:
        rules = [rule for group in yaml.safe_load(stream)["groups"] for rule in group["rules"]]
    exported = exported_names()
    for rule in rules:
        named = set(re.findall(r"\bmentor_[a-z_]+", rule["expr"]))
        assert named and named <= exported, (rule["alert"], named - exported)
    assert {"RelayLagging", "EventsParked", "ServiceNotReady", "EmailsFailing"} <= {r["alert"] for r in rules}
