"""The sealed holdout (evaluation.holdout) on the trained project: ONNX scoring against
scikit-learn as the oracle, and the errors a wrong setup gets. Its config, metrics and
readers are tested under tests/unit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from kit.git import git
from kit.holdout import seal_holdout
from sklearn import metrics as skm

from jx_mlops.config.project import load_config
from jx_mlops.errors import ConfigError, DvcError
from jx_mlops.evaluation.holdout import base_holdout, fetch_holdout, locate
from jx_mlops.evaluation.onnxscore import load_onnx, predict
from jx_mlops.evaluation.snapshot import snapshot
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home
from jx_mlops.git.repo import GitRepo


@pytest.mark.slow
def test_holdout_is_scored_from_onnx_as_scikit_learn_scores_it(project, tmp_path: Path
                                                               ) -> None:
    """Our metrics of the project's ONNX export on the holdout equal scikit-learn's on the
    same predictions; the holdout comes from its remote, never from the local cache."""
    seal_holdout(project.path)
    config = load_config(project.path)
    repo = GitRepo.open(project.path)
    base = snapshot(repo, project.path, "HEAD", "main")
    holdout = base_holdout(base)
    assert holdout is not None and holdout.remote == "sealed"
    md5 = locate(config, base, holdout)
    shutil.rmtree(project.path / ".dvc" / "cache")  # only the remote may answer
    table = fetch_holdout(config, holdout, md5)
    assert not (project.path / ".dvc" / "cache" / "files" / "md5" / md5[:2]).exists()
    assert table.x.shape == (749, 7)
    model = load_onnx((project.path / "models" / "model.onnx").read_bytes(), "model.onnx")
    scores = predict(model, table.x, "model.onnx")
    from jx_mlops.evaluation.holdout import score

    ours = score((project.path / "models" / "model.onnx").read_bytes(), table, "model.onnx")
    pred = (scores > 0.5).astype(int)
    assert model.task == "classification"
    assert ours == pytest.approx({
        "accuracy": skm.accuracy_score(table.y, pred), "f1": skm.f1_score(table.y, pred),
        "precision": skm.precision_score(table.y, pred),
        "recall": skm.recall_score(table.y, pred),
        "roc_auc": skm.roc_auc_score(table.y, scores)}, abs=1e-12)
    repo.close()


@pytest.mark.slow
def test_a_holdout_missing_from_its_remote_is_one_clear_line(project) -> None:
    seal_holdout(project.path, push=False)
    config = load_config(project.path)
    repo = GitRepo.open(project.path)
    base = snapshot(repo, project.path, "HEAD", "main")
    holdout = base_holdout(base)
    assert holdout is not None
    md5 = locate(config, base, holdout)
    with pytest.raises(DvcError) as caught:
        fetch_holdout(config, holdout, md5)
    message = caught.value.message
    assert message.startswith(f"mlops.yaml: evaluation.holdout: data/holdout.csv cannot be "
                              f"read from remote 'sealed': DVC object {md5} is not readable")
    assert "\n" not in message
    # A remote the project does not configure, and an untracked path: named, one line.
    with pytest.raises(ConfigError, match=r"^mlops.yaml: evaluation.holdout_remote: no DVC "
                                          r"remote 'vault' is configured \(have: "):
        locate(config, base, type(holdout)(holdout.path, "vault", holdout.target))
    with pytest.raises(ConfigError, match=r"^mlops.yaml: evaluation.holdout: data/x.csv is "
                                          r"not tracked by data/x.csv.dvc at main \("):
        locate(config, base, type(holdout)("data/x.csv", "sealed", holdout.target))
    repo.close()


@pytest.mark.slow
def test_ci_pr_scores_the_holdout_and_never_pulls_or_pushes_it(project, cli, monkeypatch
                                                                ) -> None:
    """A same-repository PR: `ci pr` (the job with the remote's credentials) scores the
    PR's ONNX export on the holdout; the PR's work tree never gets the holdout's rows."""
    monkeypatch.chdir(project.path)
    sealed = seal_holdout(project.path)
    # As on a CI runner: the base's holdout is neither in the work tree nor the cache.
    md5 = (project.path / "data" / "holdout.csv.dvc").read_text().split("md5: ")[1][:32]
    (project.path / "data" / "holdout.csv").unlink()
    (project.path / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    git(project.path, "push", "-q", "origin", "main")
    assert cli("retrain", "--set", "train.n_estimators=60").code == 0
    result = cli("ci", "pr", "--pr", "1", "--json")
    assert result.code == 0, result.err
    check = json.loads(result.out)
    rows = {m["name"]: m for m in check["metrics"] if m["path"] == "data/holdout.csv (holdout)"}
    assert set(rows) == {"accuracy", "f1", "precision", "recall", "roc_auc"}
    assert all(isinstance(m["head"], float) and isinstance(m["base"], float)
               for m in rows.values())
    assert not (project.path / "data" / "holdout.csv").exists()
    assert not (project.path / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).exists()
    storage = project.home / "storage" / "local" / "churn" / "files" / "md5"
    assert not (storage / md5[:2] / md5[2:]).exists()  # not pushed to the default remote
    assert (sealed / "files" / "md5" / md5[:2] / md5[2:]).exists()
    body = LocalForge(jx_home() / "forge").list_comments("local/churn", 1)[0].body
    assert "**Sealed holdout:** data/holdout.csv \\(749 rows" in body
    # A ChatOps /report refreshes the comment without training: the holdout rows stay,
    # scored from the export the PR's dvc.lock names.
    LocalForge(jx_home() / "forge").create_comment("local/churn", 1, "/report")
    assert cli("ci", "chatops", "--pr", "1").code == 0
    refreshed = LocalForge(jx_home() / "forge").list_comments("local/churn", 1)[0].body
    assert refreshed.count("(holdout\\)") == body.count("(holdout\\)") > 0
