"""Serving copies of registered model versions in the DVC remote, written and read back
by their hashes.

Serving runtimes (KServe's sklearn, lightgbm, ONNX servers...) find a model by its file
name; DVC's objects are named by their hash, so each version gets a copy under its
artifact's own name: ``jx-mlops/models/MODEL/VERSION/model.pkl``. That path is
predictable and the remote has writers who cannot write git, so nothing found there is
taken on trust: publishing reads the source object by its md5 (checked), refuses a copy
already in place that is not those bytes, writes beside the target and renames, and
reads the result back (``publish_copy``); ``copy_digests`` lets ``audit`` hash what is
there now.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from jx_mlops.dvc.hashes import Digests, blocks, digests_of
from jx_mlops.dvc.storage import materialise, open_project, parse_dir_manifest, read_cached
from jx_mlops.errors import DvcError

SERVING_PREFIX = "jx-mlops/models"


def serving_copy_path(model: str, version: str, artifact: str) -> str:
    """Where a registered model's named copy lives, relative to the DVC remote's root:
    ``jx-mlops/models/MODEL/VERSION/FILE`` (a monorepo's DIR:NAME becomes DIR/NAME)."""
    directory = model.replace(":", "/")
    return f"{SERVING_PREFIX}/{directory}/{version}/" \
           f"{os.path.basename(os.path.normpath(artifact))}"


@dataclass(frozen=True)
class PublishedCopy:
    """A serving copy in the remote (``url``) and the verified local bytes it was written
    from (``local``: what signing signs); ``sha256`` of a file artifact's bytes."""

    url: str
    local: Path
    sha256: str | None


def local_digests(path: Path) -> dict[str, Digests]:
    """Digests of a local copy: ``{"": ...}`` for a file, ``relpath -> ...`` for a
    directory's files."""
    if path.is_file():
        with path.open("rb") as handle:
            return {"": digests_of(blocks(handle))}
    found = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        with file.open("rb") as handle:
            found[file.relative_to(path).as_posix()] = digests_of(blocks(handle))
    return found


def publish_copy(root: Path, md5: str, dest: str, workdir: Path, *,
                 sha256: str | None = None) -> PublishedCopy:
    """Put DVC object ``md5`` (a file, or a directory's files) at ``dest``, a path relative
    to the default remote's root, hash before trust:

    - the object is written under ``workdir`` from the local cache, else the remote,
      every byte checked against its md5 (and a file against ``sha256``, the version's,
      when it has one);
    - a copy already at ``dest`` is kept when it is those very bytes, refused otherwise
      (DvcError naming what is there and what the version is);
    - else each file is written beside its place, renamed onto it, and read back.

    Idempotent: a re-run after a lost or half-written copy completes it."""
    local = workdir / os.path.basename(dest)
    materialise(root, md5, local)
    wanted = local_digests(local)
    if sha256 is not None and not md5.endswith(".dir") and wanted[""].sha256 != sha256:
        raise DvcError(f"DVC object {md5} has sha256 {wanted[''].sha256}, but the version "
                       f"records {sha256}: not publishing it")
    repo = open_project(root)
    try:
        remote = repo.cloud.get_remote(command="publish")
        fs, base = remote.fs, remote.path
        target = fs.join(base, *dest.split("/"))
        # Uploads land in the version's directory, beside the copy and never inside a
        # directory artifact: a killed run's leftover is never taken for one of its files.
        staging = fs.parent(target)
        for relpath, digests in wanted.items():
            path = fs.join(target, *relpath.split("/")) if relpath else target
            _put_checked(fs, path, local / relpath if relpath else local, digests, dest,
                         staging)
        _refuse_extra(fs, target, wanted, dest)
        url = str(fs.unstrip_protocol(target))
    except DvcError:
        raise
    except Exception as exc:  # credentials, network, permissions: one line for the user
        raise DvcError(f"cannot publish {dest} to the DVC remote: {exc}") from None
    finally:
        repo.close()
    return PublishedCopy(url, local, None if md5.endswith(".dir") else wanted[""].sha256)


def _describe(digests: Digests) -> str:
    return f"md5 {digests.md5}, sha256 {digests.sha256[:16]}…"


def _put_checked(fs: Any, path: str, local: Path, wanted: Digests, dest: str,
                 staging_dir: str) -> None:
    """``local`` at ``path``: kept when already there, refused when something else is;
    else uploaded into ``staging_dir`` and renamed onto ``path`` (never half a file)."""
    if fs.exists(path):
        with fs.open(path, "rb") as handle:
            there = digests_of(blocks(handle))
        if (there.md5, there.sha256) != (wanted.md5, wanted.sha256):
            raise DvcError(f"{dest} is already in the DVC remote with {_describe(there)}, "
                           f"but the version's bytes have {_describe(wanted)}: refusing to "
                           "publish or sign it (who wrote it? remove it once checked)")
        return
    fs.makedirs(fs.parent(path), exist_ok=True)
    staging = fs.join(staging_dir, f".jx-mlops-upload-{secrets.token_hex(8)}")
    fs.put_file(str(local), staging)
    fs.mv(staging, path)
    with fs.open(path, "rb") as handle:
        written = digests_of(blocks(handle))
    if (written.md5, written.sha256) != (wanted.md5, wanted.sha256):
        raise DvcError(f"{dest}: the copy written to the DVC remote reads back with "
                       f"{_describe(written)}, not {_describe(wanted)}")


def _refuse_extra(fs: Any, target: str, wanted: dict[str, Digests], dest: str) -> None:
    """A directory copy holds the artifact's files and nothing else (a planted file would
    be served beside them)."""
    if "" in wanted:
        return
    found = {fs.relpath(p, target).replace(os.sep, "/") for p in fs.find(target)}
    extra = sorted(found - set(wanted))
    if extra:
        raise DvcError(f"{dest} in the DVC remote holds files that are not the version's: "
                       f"{', '.join(extra[:3])}: refusing to publish or sign it")


# -- reading copies back ------------------------------------------------------------------


def _remote_fs(uri: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs  # DVC's file systems (s3fs, gcsfs...) plug in here

    fs, path = url_to_fs(uri)
    return fs, str(path)


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


@contextmanager
def _opened(uri: str) -> Iterator[BinaryIO]:
    if _is_local(uri):
        with Path(uri.removeprefix("file://")).open("rb") as handle:
            yield handle
    else:
        fs, path = _remote_fs(uri)
        with fs.open(path, "rb") as handle:
            yield handle


def copy_digests(uri: str, *, directory: bool = False) -> dict[str, Digests] | None:
    """What the copy at ``uri`` hashes to now: ``{"": ...}`` for a file, ``relpath ->``
    for a directory's files; None when nothing is there. DvcError when it is unreadable."""
    try:
        if not directory:
            with _opened(uri) as handle:
                return {"": digests_of(blocks(handle))}
        if _is_local(uri):
            base = Path(uri.removeprefix("file://"))
            return local_digests(base) if base.is_dir() else None
        fs, path = _remote_fs(uri)
        if not fs.isdir(path):
            return None
        found = {}
        for file in sorted(fs.find(path)):
            with fs.open(file, "rb") as handle:
                found[file[len(path):].lstrip("/")] = digests_of(blocks(handle))
        return found
    except FileNotFoundError:
        return None
    except Exception as exc:  # credentials, network
        raise DvcError(f"cannot read {uri} from the DVC remote: {exc}") from None


def read_manifest(uri: str, md5: str) -> dict[str, str] | None:
    """The ``.dir`` manifest object at ``uri`` (None when it is missing)."""
    try:
        with _opened(uri) as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except Exception as exc:  # credentials, network
        raise DvcError(f"cannot read {uri} from the DVC remote: {exc}") from None
    return parse_dir_manifest(data, f"DVC directory object {md5} at {uri}")


def cached_manifest(root: Path, md5: str) -> dict[str, str] | None:
    """The ``.dir`` manifest ``md5`` from the local cache (checked), if it is there."""
    data = read_cached(root, md5)
    return None if data is None else parse_dir_manifest(data, f"DVC directory object {md5}")


def fetch_copy(uri: str, into: Path) -> Path:
    """A local path holding the published copy at ``uri`` (a file or a directory): the copy
    itself when the remote is a local directory, else a download under ``into``."""
    if _is_local(uri):
        return Path(uri.removeprefix("file://"))
    try:
        fs, path = _remote_fs(uri)
        target = into / uri.rstrip("/").rsplit("/", 1)[-1]
        fs.get(path, str(target), recursive=fs.isdir(path))
        return target
    except Exception as exc:  # credentials, network, a missing object
        raise DvcError(f"cannot read {uri} from the DVC remote: {exc}") from None


def put_file(local: Path, uri: str) -> None:
    """Write ``local`` at ``uri`` in the DVC remote (replacing what is there)."""
    try:
        if _is_local(uri):
            target = Path(uri.removeprefix("file://"))
            target.parent.mkdir(parents=True, exist_ok=True)
            if target != local:
                target.write_bytes(local.read_bytes())
            return
        fs, path = _remote_fs(uri)
        fs.put_file(str(local), path)
    except Exception as exc:
        raise DvcError(f"cannot write {uri} to the DVC remote: {exc}") from None
