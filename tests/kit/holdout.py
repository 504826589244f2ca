"""A sealed holdout (evaluation.holdout) added to a copy of the session project."""

from __future__ import annotations

from pathlib import Path

from kit.dvc import dvc
from kit.git import git

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
