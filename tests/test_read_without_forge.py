"""The read commands need no forge: report, versions, history, lineage and insights in a
project whose mlops.yaml names none (run with a JX_MLOPS_HOME that has no forge at all),
and lineage in a clone with GTO's tags only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kit.git import git
from kit.lab import Lab

pytestmark = pytest.mark.slow  # a registration (signing, serving copy) on the lab project

NO_SOURCE = "in unknown (registered in a project whose mlops.yaml names no forge)"


@pytest.fixture
def no_forge(cli, lab: Lab) -> Lab:
    """The lab project without forge: and environments:, one version registered."""
    text = (lab.path / "mlops.yaml").read_text().replace("forge:\n  repo: local/fraud\n", "")
    (lab.path / "mlops.yaml").write_text(text[:text.index("environments:")])
    lab.new_version()
    assert cli("register", "fraud").code == 0
    return lab


def test_report_versions_history_lineage_insights_without_a_forge(cli, no_forge: Lab,
                                                                   hermetic: Path,
                                                                   monkeypatch) -> None:
    monkeypatch.setenv("JX_MLOPS_HOME", str(hermetic / "no-forge-here"))
    for args in (("versions",), ("history", "fraud"), ("lineage", "fraud@v0.0.1"),
                 ("insights",), ("report", "--base", "HEAD~1", "--head", "HEAD")):
        result = cli(*args)
        assert result.code == 0, (args, result.err)
        assert result.out.strip(), args
    assert [v["version"] for v in json.loads(cli("versions", "--json").out)] == ["v0.0.1"]
    lineage = cli("lineage", "fraud@v0.0.1")
    assert lineage.out.splitlines()[0].endswith(NO_SOURCE)
    data = json.loads(cli("lineage", "fraud@v0.0.1", "--json").out)
    assert data["source_repo"] == "" and "source_repo" in data["unknown"]
    insights = cli("insights")
    assert insights.out.startswith("no environments in mlops.yaml: nothing is deployed")
    assert not (hermetic / "no-forge-here" / "forge").exists()


def test_lineage_in_a_clone_with_gto_tags_only(cli, no_forge: Lab, tmp_path: Path,
                                               monkeypatch) -> None:
    clone = tmp_path / "gto-only"
    git(tmp_path, "clone", "-q", str(no_forge.path), str(clone))
    git(clone, "rm", "-q", "mlops.yaml")
    git(clone, "commit", "-qm", "no jx-mlops here")
    monkeypatch.chdir(clone)
    result = cli("lineage", "fraud@v0.0.1")
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.startswith("fraud@v0.0.1  commit ") and first.endswith(NO_SOURCE)
