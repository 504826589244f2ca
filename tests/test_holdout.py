"""The sealed holdout (evaluation.holdout): config, ONNX scoring, metrics against
scikit-learn as the oracle, and the errors a wrong setup gets."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from kit.dvc import dvc
from kit.git import git
from sklearn import metrics as skm

from jx_mlops.compare.modelmetrics import classification_metrics, regression_metrics
from jx_mlops.config.evaluation import HoldoutConfig
from jx_mlops.config.project import load_config, parse_config
from jx_mlops.errors import ConfigError, DvcError
from jx_mlops.evaluation.holdout import base_holdout, fetch_holdout, locate, parse_table
from jx_mlops.evaluation.onnxscore import OnnxScoringError, load_onnx, predict
from jx_mlops.evaluation.snapshot import snapshot
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.fsutil import jx_home
from jx_mlops.git.repo import GitRepo

HOLDOUT_KEYS = ("  holdout: data/holdout.csv\n  holdout_remote: sealed\n"
                "  holdout_target: approved\n")


def seal_holdout(path: Path, *, push: bool = True) -> Path:
    """Track a holdout (749 of the prepared test set's rows, for the test) with DVC, in a remote
    of its own, and name it in mlops.yaml; committed on the current branch."""
    sealed = path.parent / "sealed-remote"
    # The test split without its last row: a file of its own (another hash).
    rows = (path / "data" / "prepared" / "test.csv").read_text().splitlines(keepends=True)
    (path / "data" / "holdout.csv").write_text("".join(rows[:-1]))
    dvc(path, "add", "-q", "data/holdout.csv")
    dvc(path, "remote", "add", "sealed", str(sealed))
    if push:
        dvc(path, "push", "-q", "-r", "sealed", "data/holdout.csv.dvc")
    # Plain `dvc pull` and `dvc push` (a developer, any other job) leave it alone; jx-mlops
    # reads the .dvc file from git.
    with (path / ".dvcignore").open("a") as ignore:
        ignore.write("/data/holdout.csv.dvc\n")
    config = path / "mlops.yaml"
    config.write_text(config.read_text().replace("  trusted: evaluate\n",
                                                 f"  trusted: evaluate\n{HOLDOUT_KEYS}"))
    git(path, "add", "-A")
    git(path, "commit", "-qm", "Seal a holdout")
    return sealed


def test_our_metrics_equal_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400).astype(float)
    # Rounded scores: many ties, across the classes too (roc_auc counts them half).
    score = np.round(np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1), 1)
    ours = classification_metrics(y, score)
    pred = (score > 0.5).astype(int)
    assert ours == pytest.approx({
        "accuracy": skm.accuracy_score(y, pred), "f1": skm.f1_score(y, pred),
        "precision": skm.precision_score(y, pred), "recall": skm.recall_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, score)}, abs=1e-12)
    none = classification_metrics(y, np.zeros(400))  # nothing predicted positive
    assert (none["precision"], none["f1"]) == (0.0, 0.0)
    truth, guess = rng.normal(5, 2, 300), rng.normal(5, 2, 300)
    assert regression_metrics(truth, guess) == pytest.approx({
        "mae": skm.mean_absolute_error(truth, guess),
        "rmse": skm.root_mean_squared_error(truth, guess),
        "r2": skm.r2_score(truth, guess)}, abs=1e-12)


@pytest.mark.parametrize(("block", "message"), [
    ("  holdout: ../outside.csv\n  holdout_remote: s\n  holdout_target: y\n",
     "mlops.yaml: evaluation.holdout: expected a path inside the project, got '../outside.csv'"),
    ("  holdout: data/h.csv\n  holdout_target: y\n",
     "mlops.yaml: evaluation.holdout_remote: expected the name of the DVC remote that holds "
     "the holdout, got nothing"),
    ("  holdout: data/h.csv\n  holdout_remote: s\n",
     "mlops.yaml: evaluation.holdout_target: expected the holdout's label column, got "
     "nothing"),
    ("  holdout: data/h.csv\n  holdout_remote: s\n  holdout_target: y\n"
     "  holdout_features: [a, y]\n",
     "mlops.yaml: evaluation.holdout_features: expected a list of distinct columns, the "
     "target not among them, got ['a', 'y']"),
    ("  holdout_remote: s\n", "mlops.yaml: evaluation.holdout: expected a path "
     "(holdout_remote needs a holdout), got nothing"),
])
def test_a_bad_holdout_key_is_one_line_naming_it(block: str, message: str) -> None:
    text = ("version: 1\nproject: p\nforge: {kind: local, repo: a/p}\nmodels:\n  m: {}\n"
            f"evaluation:\n  trusted: evaluate\n{block}")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, Path("mlops.yaml"))
    assert str(caught.value.message) == message


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


class _Marker:
    """Unpickling this writes a file: the proof a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "unpickled"))  # type: ignore[return-value]


def test_an_onnx_file_that_is_not_onnx_is_refused_without_loading_it(tmp_path: Path
                                                                     ) -> None:
    marker = tmp_path / "marker"
    evil = pickle.dumps(_Marker(str(marker)))
    for data, expected in ((evil, "not a valid ONNX model"), (b"", "not a valid ONNX model")):
        with pytest.raises(OnnxScoringError, match=f"^model.onnx: {expected}"):
            load_onnx(data, "model.onnx")
    assert not marker.exists()
    table = parse_table(b"a,b,y\n1,x,1\n2,y,0\n", _holdout())
    assert table.x.shape == (2, 1)  # the non-numeric column is no feature by default
    with pytest.raises(ConfigError, match=r"column 'a', row 3: not a number"):
        parse_table(b"a,y\n1,1\nn/a,0\n", _holdout(("a",)))


def _holdout(features: tuple[str, ...] = ()) -> HoldoutConfig:
    return HoldoutConfig("h.csv", "sealed", "y", features)
