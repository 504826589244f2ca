"""The sealed holdout in CI: which job scores it, and with which ONNX file.

- `ci pr` (a same-repository PR, in the job that holds the holdout remote's credentials):
  after training, the PR's ONNX export in the work tree is scored on the holdout.
- `ci pr --output DIR` (a fork's job, no secrets): never touches the holdout; it copies
  each model's ONNX export into the artifact (``onnx/MODEL.onnx``).
- `ci publish DIR` (the trusted job, on a checkout of the base branch): scores the
  artifact's ONNX files on the holdout with onnxruntime. The artifact's own holdout rows,
  if a fork wrote any, are dropped first: only this job may say what the holdout says.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from jx_mlops import console
from jx_mlops.compare.comparison import Comparison
from jx_mlops.config.project import ModelConfig, ProjectConfig
from jx_mlops.evaluation.holdout import (
    HeadExport,
    base_export,
    base_holdout,
    fetch_holdout,
    head_export_reader,
    locate,
    onnx_path,
    score_holdout,
    without_claims,
)
from jx_mlops.evaluation.onnxscore import MAX_ONNX_BYTES
from jx_mlops.evaluation.snapshot import Snapshot, snapshot
from jx_mlops.fsutil import read_bounded
from jx_mlops.git.repo import GitRepo

EXPORTS_DIR = "onnx"


def check_pr_holdout(config: ProjectConfig, repo: GitRepo, base_ref: str) -> str | None:
    """Before training: the base's holdout is tracked and its remote configured (a wrong
    key stops `ci pr` with one line before anything is pushed); returns its path."""
    base = snapshot(repo, config.root, base_ref, base_ref)
    holdout = base_holdout(base)
    if holdout is None:
        return None
    locate(config, base, holdout)
    return holdout.path


def _on_holdout(config: ProjectConfig, base: Snapshot, comparison: Comparison,
                export: Callable[[ModelConfig], HeadExport]) -> Comparison:
    """``comparison`` with the head's export (``export``) scored on the base's holdout;
    unchanged when the base has none."""
    holdout = base_holdout(base)
    if holdout is None:
        return comparison
    md5 = locate(config, base, holdout)
    with console.step(f"Scoring on the sealed holdout {holdout.path} (onnxruntime)"):
        table = fetch_holdout(config, holdout, md5)
        return score_holdout(config, comparison, base, table, export, base.label)


def score_pr_holdout(config: ProjectConfig, base: Snapshot, comparison: Comparison
                     ) -> Comparison:
    """`ci pr`'s comparison with the PR's ONNX export (work tree) scored on the base's
    holdout; unchanged when the base has none."""
    head = snapshot(base.repo, config.root, None, "PR")
    where: dict[str, str] = {}

    def read(model: ModelConfig) -> bytes | None:
        path = onnx_path(head, model)
        where[model.name] = path or "dvc.yaml declares no meta.onnx"
        file = config.root / path if path else None
        if file is None or not file.is_file():
            return None
        return read_bounded(file, root=config.root, max_bytes=MAX_ONNX_BYTES, name=path)

    return _on_holdout(config, base, comparison, head_export_reader(read, where))


def score_revision_holdout(config: ProjectConfig, base: Snapshot, head: Snapshot,
                           comparison: Comparison) -> Comparison:
    """As ``score_pr_holdout``, for a head that is not checked out (``/report`` refreshes
    without training): its ONNX export is the one its dvc.lock names, read from the DVC
    cache or remote, never a pickle."""
    return _on_holdout(config, base, comparison,
                       lambda model: base_export(config, head, model))


def write_exports(config: ProjectConfig, output: Path) -> list[str]:
    """Copy each model's ONNX export (dvc.yaml ``meta.onnx``) into the artifact, for the
    trusted job to score; returns the files written."""
    repo = GitRepo.open(config.root)
    try:
        head = snapshot(repo, config.root, None, "PR")
        written = []
        for model in config.models:
            path = onnx_path(head, model)
            source = config.root / path if path else None
            if source is None or not source.is_file() or source.is_symlink():
                continue  # publish says the model has no export: the verdict fails
            if source.stat().st_size > MAX_ONNX_BYTES:
                continue
            target = output / EXPORTS_DIR / f"{model.name}.onnx"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written.append(os.path.relpath(target, output))
        return written
    finally:
        repo.close()


def score_fork_holdout(config: ProjectConfig, comparison: Comparison, directory: Path,
                       base_label: str) -> Comparison:
    """`ci publish`: the artifact's ONNX exports scored on the holdout of this checkout
    (the base branch: trusted), compared with the base's own export."""
    holdout = config.evaluation.holdout
    if holdout is None:
        return comparison
    repo = GitRepo.open(config.root)
    try:
        base = snapshot(repo, config.root, None, base_label)
        md5 = locate(config, base, holdout)
        with console.step(f"Scoring the PR's ONNX export on the sealed holdout {holdout.path}"):
            table = fetch_holdout(config, holdout, md5)

            def read(model: ModelConfig) -> bytes | None:
                file = directory / EXPORTS_DIR / f"{model.name}.onnx"
                if not file.is_file():
                    return None
                return read_bounded(file, root=directory, max_bytes=MAX_ONNX_BYTES,
                                    name=f"{EXPORTS_DIR}/{model.name}.onnx of the artifact")

            where = {m.name: f"{EXPORTS_DIR}/{m.name}.onnx of the artifact"
                     for m in config.models}
            return score_holdout(config, without_claims(comparison), base, table,
                                 head_export_reader(read, where), base_label)
    finally:
        repo.close()
