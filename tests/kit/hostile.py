"""What attackers of the trust chain plant: pickles that leave a marker file when they are
loaded, and the DVC objects and run-cache entries a writer of the DVC remote can write."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import yaml


class _Marker:
    """Unpickling this writes the marker file (and nothing else)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[Path, str]]:
        return (Path.write_text, (Path(self.path), "unpickled"))


def marker_pickle(marker: Path) -> bytes:
    """A pickle that writes ``marker`` when loaded: the test asserts it never appears."""
    return pickle.dumps(_Marker(str(marker)))


def storage(home: Path, project: str = "churn") -> Path:
    """The local-directory DVC remote of a test's project (``kit.workspace``)."""
    return home / "storage" / "local" / project


def object_file(remote: Path, md5: str) -> Path:
    """Where a DVC 3 remote keeps object ``md5``."""
    return remote / "files" / "md5" / md5[:2] / md5[2:]


def overwrite(path: Path, data: bytes) -> None:
    """Replace ``path`` (DVC makes its objects read-only), never writing through a link."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    path.write_bytes(data)


def locked_md5(project: Path, output: str) -> str:
    """The md5 dvc.lock records for ``output``."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    for stage in lock["stages"].values():
        for out in stage.get("outs", []):
            if out["path"] == output:
                return str(out["md5"])
    raise AssertionError(f"{output} is not an output in dvc.lock")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
