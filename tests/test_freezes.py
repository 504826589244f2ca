"""Freezes and promotion windows, end to end on the local forge: a freeze refuses, a
window makes a promotion wait, and verify's automatic rollback passes a freeze."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from kit.cli import run
from kit.lab import make_lab
from kit.prometheus import PrometheusServer
from kit.verify import release_version, set_error_ratio, verified_lab

from jx_mlops.config.windows import DAYS
from jx_mlops.fsutil import jx_home

pytestmark = pytest.mark.slow  # promotion stories on the local forge, a real Prometheus


def test_a_freeze_refuses_promotions_until_unfrozen(cli, hermetic, monkeypatch) -> None:
    lab = make_lab(hermetic, jx_home())
    monkeypatch.chdir(lab.path)
    lab.new_version()
    run(cli, "register", "fraud")
    frozen = run(cli, "freeze", "--env", "staging", "--reason", "year-end change freeze",
                 "--until", "3d")
    assert (frozen["frozen"], frozen["changed"], frozen["by"]) == (True, True, "tester")
    assert frozen["until"].endswith("Z") and frozen["pull_request"]
    assert "reason: year-end change freeze" in lab.env_file("staging", "freeze.yaml")

    refused = cli("promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    assert refused.code == 1
    assert "fraud v0.0.1: staging is frozen since " in refused.err
    assert f"until {frozen['until']}: year-end change freeze" in refused.err
    released = cli("ci", "release", "--json")
    assert released.code == 1 and "staging is frozen since" in released.out
    status = cli("status")
    assert "staging is frozen since" in " ".join(status.out.split())
    assert run(cli, "status")[0]["frozen"].endswith("year-end change freeze")

    monkeypatch.setenv("JX_MLOPS_USER", "reader")
    lab.forge.set_permission("local/environment-staging", "reader", "read")
    denied = cli("unfreeze", "--env", "staging")
    assert denied.code == 1 and "reader cannot unfreeze staging" in denied.err
    monkeypatch.setenv("JX_MLOPS_USER", "tester")
    assert run(cli, "unfreeze", "--env", "staging")["changed"] is True
    assert run(cli, "unfreeze", "--env", "staging")["changed"] is False
    assert run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")["merged"]


def test_outside_its_window_a_promotion_waits(cli, hermetic, monkeypatch) -> None:
    tomorrow = DAYS[(datetime.now(timezone.utc) + timedelta(days=1)).weekday()].title()
    environments = ("  - name: staging\n    repo: local/environment-staging\n"
                    "    windows:\n"
                    f"      - allow: \"{tomorrow} 09:00-16:00\"\n"
                    "        timezone: UTC\n")
    lab = make_lab(hermetic, jx_home(), environments=environments)
    monkeypatch.chdir(lab.path)
    lab.new_version()
    run(cli, "register", "fraud")
    waiting = run(cli, "promote", "fraud", "--version", "v0.0.1", "--to", "staging")
    window = {g["gate"]: g for g in waiting["gates"]}["window"]
    assert waiting["merged"] is False and window["status"] == "pending"
    assert window["detail"].startswith(f"outside {tomorrow} 09:00-16:00 UTC: waits until "
                                       f"{tomorrow} ")
    assert "09:00 UTC" in window["detail"]
    assert "models/fraud.yaml" not in lab.env_git("staging", "ls-tree", "-r", "main")


def test_verify_rollback_passes_a_freeze(cli, hermetic, monkeypatch,
                                         prometheus_server: PrometheusServer) -> None:
    set_error_ratio(prometheus_server, 0.01)
    lab = verified_lab(hermetic, prometheus_server.url)
    monkeypatch.chdir(lab.path)
    release_version(cli, lab)
    release_version(cli, lab)
    run(cli, "freeze", "--env", "staging", "--reason", "incident 42")
    set_error_ratio(prometheus_server, 0.5)
    try:
        failed = cli("verify", "--env", "staging", "--json")
    finally:
        set_error_ratio(prometheus_server, 0.01)
    assert failed.code == 1, failed.err
    [model] = json.loads(failed.out)[0]["models"]
    assert (model["action"], model["rolled_back_to"]) == ("rollback", "v0.0.1")
    assert lab.record("staging", "fraud")["version"] == "v0.0.1"
    [latest, *_] = run(cli, "history", "fraud", "--env", "staging")
    assert latest["action"] == "rollback"
    assert latest["reason"].endswith("; passed the freeze of staging (incident 42)")
