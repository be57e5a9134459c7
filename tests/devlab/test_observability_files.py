"""deploy/observability: the alert rules and the dashboard query metrics that /metrics exports."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from devlab import metrics

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "observability" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "observability" / "grafana-dashboard.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


@pytest.fixture
def exported(monkeypatch, db) -> set[str]:
    """Every sample name /metrics can show, the checkpoint age included."""
    monkeypatch.setattr(metrics, "checkpoint_model", lambda: object())
    monkeypatch.setattr(metrics, "last_checkpoint_at", timezone.now)
    text = APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    return {
        family.name + suffix
        for family in text_string_to_metric_families(text)
        if family.name.startswith("devlab_")
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def _used(text: str) -> set[str]:
    return set(re.findall(r"\bdevlab_[a-z_]+", text))


def test_every_metric_in_the_alert_rules_is_exported(exported):
    used = _used(ALERTS.read_text())
    assert used
    assert used - exported == set()


def test_every_metric_in_the_dashboard_is_exported(exported):
    used = _used(DASHBOARD.read_text())
    assert used
    assert used - exported == set()


def test_the_alert_rules_cover_5xx_latency_checkpoints_and_lockouts():
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in rules}
    assert {"DevLabHigh5xxRate", "DevLabHighP99Latency", "DevLabAuditCheckpointStale", "DevLabLockoutSpike"} <= names
    for rule in rules:
        assert rule["expr"].strip()
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]


def test_the_dashboard_imports_with_a_chosen_prometheus_and_has_unique_panels():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert all(target["expr"] for target in panel["targets"])
