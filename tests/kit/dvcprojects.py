"""DVC projects laid out as real users lay theirs out, built with DVC itself, and DVC's and
GTO's answers about them (the oracles of tests/test_dvc_projects.py).

Each builder makes a git repository whose revisions are tagged ``r1``, ``r2``...; stages
run shell one-liners (``printf`` of values interpolated from params), so ``dvc repro`` costs
DVC's own time only. DVC runs in-process (:func:`dvc_run`): one import for the session.

- :func:`build_templated`: ``foreach`` over a list (``train@unet``, ``train@fpn``: section
  params ``[train]``, templated metrics, plots and model outputs) and over a dict
  (``cv@f1``: ``params: [folds.${key}.seed]``, YAML metrics); a ``${}`` top-level metric;
  a top-level plot over two files; ``artifacts:``. r2 retrains (a fold regresses); r3
  edits params without ``dvc repro`` (stale, the section form).
- :func:`build_matrix`: ``matrix`` stages, ``vars`` from a file, ``${}`` YAML metrics,
  key-filtered params in another file, a whole JSON params file, ``lr: 1e-3``, a CSV
  scatter plot.
- :func:`build_monorepo`: a root DVC project with ``nlp/dvc.yaml`` (its own params and
  dvc.lock, a ``wdir`` stage, artifacts), GTO's artifacts.yaml, GTO tags, and a second
  DVC project in ``experiments/`` (``dvc init --subdir``: a sub-repository the root does
  not descend into).
- :func:`build_plain`: no stages: a metrics file renamed between revisions, a CSV metrics
  file, plots of every template kind (confusion, scatter, sorted bars, an image, a
  directory of images, dvclive TSV files of 300 rows) and a dvc.yaml DVC ignores
  (``.dvcignore``); r3 breaks dvc.yaml (DVC rejects it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kit.git import git

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6364f8cf500f0003860180563473"
                    "6b0000000049454e44ae426082")


@contextlib.contextmanager
def dvc_logging_to(stream: io.StringIO) -> Iterator[None]:
    """DVC's console log handlers write to ``stream`` for the block.

    ``import dvc`` binds them to the ``sys.stdout``/``sys.stderr`` of that moment; in a
    test process that can be the capsys stream of the test that first imported DVC (an
    in-process ``jx-mlops`` call), closed when that test ended: DVC's next warning then
    raises ``LoggingException: ... I/O operation on closed file``."""
    import logging

    handlers = [h for name in ("dvc", "dvc_objects", "dvc_data")
                for h in logging.getLogger(name).handlers
                if isinstance(h, logging.StreamHandler)]
    before = [h.stream for h in handlers]
    for handler in handlers:  # not setStream: it flushes the old stream, maybe closed
        handler.stream = stream
    try:
        yield
    finally:
        for handler, old in zip(handlers, before, strict=True):
            handler.stream = old


def dvc_run(root: Path, *args: str) -> str:
    """``dvc ARGS`` run in-process in ``root``; its stdout (its log lines go with its
    stderr, into the failure message). Fails loudly when DVC does."""
    from dvc.cli import main

    out = io.StringIO()
    # DVC_TEST: DVC's own test switch; without it DVC's JSON goes to the process's real
    # stdout, past any redirection (colorama), and DVC checks for updates.
    before = os.environ.get("DVC_TEST")
    os.environ["DVC_TEST"] = "1"
    try:
        with contextlib.chdir(root), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(io.StringIO()) as err, dvc_logging_to(err):
            code = main(list(args))
    finally:
        if before is None:
            del os.environ["DVC_TEST"]
        else:
            os.environ["DVC_TEST"] = before
    assert code == 0, f"dvc {' '.join(args)} in {root}: {err.getvalue()[-2000:]}"
    return out.getvalue()


def dvc_json(root: Path, *args: str) -> Any:
    text = dvc_run(root, *args, "--json")
    return json.loads(text) if text.strip() else {}


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def commit(root: Path, tag: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", tag)
    git(root, "tag", tag)
    return git(root, "rev-parse", "HEAD")


def _new(root: Path, *, subdir: str = "") -> None:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    where = root / subdir if subdir else root
    where.mkdir(parents=True, exist_ok=True)
    dvc_run(where, "init", "-q", *(["--subdir"] if subdir else []))
    dvc_run(where, "config", "core.analytics", "false")


# -- foreach ------------------------------------------------------------------------------

TEMPLATED_DVC_YAML = """\
stages:
  train:
    foreach: ${models}
    do:
      cmd: >-
        mkdir -p models ${reports.root} plots &&
        printf '{"loss": %s, "acc": %s}' ${train.lr} ${train.acc} >
        ${reports.root}/dvclive_${item}.json &&
        printf '[{"step": 0, "loss": 1}, {"step": 1, "loss": %s}, {"step": 2, "loss": %s}]'
        ${train.lr} ${train.lr} > plots/${item}.json &&
        printf '${item} %s' ${train.epochs} > models/${item}.pt
      params: [train]
      outs:
        - models/${item}.pt
      metrics:
        - ${reports.root}/dvclive_${item}.json:
            cache: false
      plots:
        - plots/${item}.json:
            cache: false
            x: step
            y: loss
  cv:
    foreach: ${folds}
    do:
      cmd: >-
        mkdir -p cv && printf 'validation_loss: %s\\njaccard: %s\\n' ${item.loss}
        ${item.jaccard} > cv/${key}.yaml
      params:
        - folds.${key}.seed
        - folds.${key}.loss
        - folds.${key}.jaccard
      metrics:
        - cv/${key}.yaml:
            cache: false
metrics:
  - ${reports.root}/summary.json
plots:
  - loss_curves:
      x: step
      y:
        plots/unet.json: loss
        plots/fpn.json: loss
artifacts:
  segmenter:
    path: models/unet.pt
    type: model
    desc: U-Net segmentation
"""


def _templated_params(lr: float, acc: float, epochs: int, fold2: tuple[float, float]) -> str:
    return (f"train:\n  lr: {lr}\n  acc: {acc}\n  epochs: {epochs}\nmodels: [unet, fpn]\n"
            "reports:\n  root: reports\nfolds:\n  f1: {seed: 1, loss: 0.2054, jaccard: 0.71}\n"
            f"  f2: {{seed: 2, loss: {fold2[0]}, jaccard: {fold2[1]}}}\n")


def build_templated(root: Path) -> None:
    _new(root)
    write(root, {"dvc.yaml": TEMPLATED_DVC_YAML,
                 "params.yaml": _templated_params(0.1, 0.9, 30, (0.21, 0.7)),
                 "reports/summary.json": '{"best": {"dice": 0.81}}'})
    dvc_run(root, "repro", "-q")
    commit(root, "r1")
    write(root, {"params.yaml": _templated_params(0.05, 0.93, 18, (0.31, 0.65)),
                 "reports/summary.json": '{"best": {"dice": 0.84}}'})
    dvc_run(root, "repro", "-q")
    commit(root, "r2")
    write(root, {"params.yaml": _templated_params(0.05, 0.93, 20, (0.31, 0.65))})
    commit(root, "r3")


# -- matrix -------------------------------------------------------------------------------

MATRIX_DVC_YAML = """\
vars:
  - config/project.yaml
stages:
  sweep:
    matrix:
      model: [lr, rf]
      size: [1, 2]
    cmd: >-
      mkdir -p ${project}/${item.model}-${item.size} &&
      printf 'acc: %s\\nloss: %s\\n' ${item.size} ${train.lr}
      > ${project}/${item.model}-${item.size}.yaml &&
      printf w > ${project}/${item.model}-${item.size}/best.pt
    outs:
      - ${project}/${item.model}-${item.size}/best.pt
    params:
      - train.lr
      - sweep.yaml:
          - ${item.model}.depth
      - config/hp.json:
    metrics:
      - ${project}/${item.model}-${item.size}.yaml:
          cache: false
  report:
    cmd: >-
      mkdir -p ${project} &&
      printf '{"eval_accuracy": %s}' ${train.warmup} > ${project}/results.json &&
      printf 'step,acc\\n0,0.5\\n1,%s\\n2,0.9\\n' ${train.lr} > ${project}/curve.csv
    params:
      - train
    metrics:
      - ${project}/results.json:
          cache: false
    plots:
      - ${project}/curve.csv:
          cache: false
          template: scatter
          x: step
          y: acc
"""


def build_matrix(root: Path) -> None:
    _new(root)
    write(root, {"dvc.yaml": MATRIX_DVC_YAML,
                 "params.yaml": "train:\n  lr: 1e-3\n  batch: 512\n  warmup: 1\n"
                                "unused:\n  note: keep\n",
                 "sweep.yaml": "lr: {depth: 3, C: 1.0}\nrf: {depth: 5, trees: 100}\n",
                 "config/project.yaml": "project: runs/exp1\n",
                 "config/hp.json": '{"hp": {"dropout": 0.1}}'})
    dvc_run(root, "repro", "-q")
    commit(root, "r1")
    write(root, {"params.yaml": "train:\n  lr: 5e-4\n  batch: 500\n  warmup: 0.75\n"
                                "unused:\n  note: changed\n",
                 "sweep.yaml": "lr: {depth: 4, C: 1.0}\nrf: {depth: 5, trees: 200}\n",
                 "config/hp.json": '{"hp": {"dropout": 0.2}}'})
    dvc_run(root, "repro", "-q")
    commit(root, "r2")


# -- a monorepo: a dvc.yaml in a subdirectory, a DVC root in a git subfolder, GTO ------------

ROOT_DVC_YAML = """\
stages:
  top:
    cmd: >-
      mkdir -p eval && printf '{"acc": %s}' ${train.lr} > eval/top.json
    params: [train.lr]
    metrics:
      - eval/top.json: {cache: false}
artifacts:
  root-model:
    path: eval/top.json
    type: model
"""

NLP_DVC_YAML = """\
stages:
  train:
    cmd: >-
      mkdir -p out && printf '{"f1": %s}' ${train.lr} > out/${name}.json &&
      printf bin > out/model.bin
    params: [train.lr]
    outs:
      - out/model.bin
    metrics:
      - out/${name}.json: {cache: false}
  shifted:
    wdir: sub2
    cmd: >-
      mkdir -p m && printf '{"recall": 0.5}' > m/x.json
    metrics:
      - m/x.json: {cache: false}
metrics:
  - summary.json
artifacts:
  classifier:
    path: out/model.bin
    type: model
    desc: text classifier
"""

EXPERIMENTS_DVC_YAML = """\
stages:
  train:
    cmd: >-
      mkdir -p metrics && printf '{"dice": %s}' ${train.dice} > metrics/eval.json &&
      printf m > model.pkl
    params: [train]
    outs: [model.pkl]
    metrics:
      - metrics/eval.json: {cache: false}
artifacts:
  exp-model:
    path: model.pkl
    type: model
"""


def _monorepo_revision(root: Path, lr: float, nlp_lr: float, dice: float, score: float) -> None:
    write(root, {"params.yaml": f"train: {{lr: {lr}}}\n",
                 "nlp/params.yaml": f"train: {{lr: {nlp_lr}, epochs: 5}}\nname: bert\n",
                 "nlp/summary.json": f'{{"score": {score}}}',
                 "experiments/params.yaml": f"train: {{dice: {dice}}}\n"})
    dvc_run(root, "repro", "-q", "--all-pipelines")
    dvc_run(root / "experiments", "repro", "-q")


def build_monorepo(root: Path) -> None:
    _new(root)
    (root / "nlp" / "sub2").mkdir(parents=True)
    (root / "experiments").mkdir()
    dvc_run(root / "experiments", "init", "-q", "--subdir")
    write(root, {"dvc.yaml": ROOT_DVC_YAML, "nlp/dvc.yaml": NLP_DVC_YAML,
                 "nlp/sub2/.gitkeep": "", "experiments/dvc.yaml": EXPERIMENTS_DVC_YAML,
                 "artifacts.yaml": "legacy-model:\n  type: model\n  path: legacy.pkl\n"
                                   "  description: declared only in artifacts.yaml\n",
                 "legacy.pkl": "legacy"})
    _monorepo_revision(root, 0.1, 0.3, 0.8, 0.7)
    commit(root, "r1")
    _monorepo_revision(root, 0.05, 0.2, 0.7, 0.75)
    commit(root, "r2")
    for tag, rev in (("nlp=classifier@v0.1.0", "r1"), ("nlp=classifier@v0.2.0", "r2"),
                     ("root-model@v1.0.0", "r2"), ("experiments=exp-model@v0.1.0", "r2"),
                     ("nlp=classifier#prod#1", "r2")):
        git(root, "tag", "-a", tag, "-m", f"Registering {tag}", rev)


# -- no stages: renames, CSV metrics, every plot template, an invalid dvc.yaml ----------------

PLAIN_DVC_YAML = """\
metrics:
  - eval/{metrics}
  - eval/extra.csv
plots:
  - confusion:
      template: confusion
      x: actual
      y:
        eval/classes.csv: predicted
  - eval/points.json:
      template: scatter
      x: x
      y: y
  - importance:
      template: bar_horizontal_sorted
      x: importance
      y:
        eval/importance.json: feature
  - eval/roc.png
  - eval/images
  - dvclive/plots/metrics:
      x: step
"""


def _plain_revision(root: Path, k: int, metrics: str, scores: dict[str, float]) -> None:
    for name in ("metrics.json", "scores.json"):
        (root / "eval" / name).unlink(missing_ok=True)
    pairs = [("cat", "cat"), ("cat", "dog"), ("dog", "dog"), ("bird", "cat" if k == 1 else "bird")]
    write(root, {
        "dvc.yaml": PLAIN_DVC_YAML.format(metrics=metrics),
        f"eval/{metrics}": json.dumps(scores),
        "eval/extra.csv": f"a,b\n1,{k + 1}\n",
        "eval/classes.csv": "actual,predicted\n" + "".join(f"{a},{p}\n" for a, p in pairs),
        "eval/points.json": json.dumps({"points": [{"x": i / 10, "y": ((i * 7 * k) % 11) / 10}
                                                   for i in range(30)]}),
        "eval/importance.json": json.dumps([{"feature": f, "importance": v * k}
                                            for f, v in (("a", 0.5), ("b", 0.3), ("c", 0.2))]),
        "eval/roc.png": PNG + bytes([k]), "eval/images/a.png": PNG, "eval/images/b.png": PNG +
        bytes([k]),
        "dvclive/plots/metrics/train/loss.tsv": "step\tloss\n" + "".join(
            f"{s}\t{round(1 / (s + k), 4)}\n" for s in range(300)),
        ".dvcignore": "ignored/\n", "ignored/dvc.yaml": "metrics: [ignored.json]\n"})


def build_plain(root: Path) -> None:
    _new(root)
    _plain_revision(root, 1, "metrics.json", {"dice_mean": 0.9, "loss": 0.3})
    commit(root, "r1")
    _plain_revision(root, 2, "scores.json", {"dice_mean": 0.9043, "loss": 0.28})
    commit(root, "r2")
    write(root, {"dvc.yaml": (root / "dvc.yaml").read_text() + "stages:\n  broken: {}\n"})
    commit(root, "r3")


# -- the oracles ----------------------------------------------------------------------------


def oracle_diffs(root: Path, a: str, b: str) -> dict[str, Any]:
    """DVC's three diffs of ``a`` and ``b``, run in the DVC root ``root``: metrics and params
    rows ``{(path, name): (old, new)}``, and the plots by id with their data records."""
    metrics = dvc_json(root, "metrics", "diff", a, b, "--all")
    params = dvc_json(root, "params", "diff", a, b, "--all")
    with tempfile.TemporaryDirectory() as out:  # DVC writes image files there
        plots = dvc_json(root, "plots", "diff", a, b, "--split", "-o", out)
    return {"metrics": _rows(metrics), "params": _rows(params),
            "plots": plots.get("data", {}) if isinstance(plots, dict) else {}}


def _rows(diff: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    diff = diff.get("diff", diff)
    return {(path, name): (row.get("old"), row.get("new")) for path, rows in diff.items()
            for name, row in rows.items()}


def plot_records(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every data record of a ``--split`` plot entry (each with its ``rev``)."""
    data: list[dict[str, Any]] = []
    for entry in entries:
        data += (entry.get("anchor_definitions") or {}).get("<DVC_METRIC_DATA>", [])
    return data


def plot_fields(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """The x and y fields of a plot entry (its axis labels, as the fixtures leave them)."""
    anchors = entries[0].get("anchor_definitions") or {}
    return anchors["<DVC_METRIC_X_LABEL>"], anchors["<DVC_METRIC_Y_LABEL>"]


@contextlib.contextmanager
def checked_out(root: Path, rev: str) -> Iterator[Path]:
    """A worktree of ``rev`` (for ``dvc status``, which reads the work tree)."""
    path = Path(tempfile.mkdtemp(prefix="wt-"))
    git(root, "worktree", "add", "-q", "--detach", str(path / "tree"), rev)
    try:
        yield path / "tree"
    finally:
        git(root, "worktree", "remove", "--force", str(path / "tree"))
        shutil.rmtree(path, ignore_errors=True)


def copy_repo(src: Path, dest: Path) -> Path:
    """A copy of a built repository (its DVC cache included)."""
    shutil.copytree(src, dest, symlinks=True)
    os.utime(dest)
    return dest
