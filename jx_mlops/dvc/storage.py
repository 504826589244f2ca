"""DVC's storage, read and written by content: the local cache, remotes, and the serving
copies of registered model versions (objects are addressed by their md5, as DVC does)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jx_mlops.errors import DvcError
from jx_mlops.fsutil import read_bounded
from jx_mlops.yamlio import json_loads, shorten


def cache_root(root: Path) -> Path:
    """The project's local cache: ``cache.dir`` of .dvc/config.local or .dvc/config (a
    shared cache, relative to .dvc), else .dvc/cache."""
    import configparser

    dvc_dir = root / ".dvc"
    for name in ("config.local", "config"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(dvc_dir / name, encoding="utf-8")
        except configparser.Error as exc:
            raise DvcError(f"{dvc_dir / name}: cannot read DVC config: "
                           f"{str(exc).splitlines()[0]}") from None
        configured = parser.get("cache", "dir", fallback=None)
        if configured:
            return (dvc_dir / os.path.expanduser(configured)).resolve()
    return dvc_dir / "cache"


def cache_file(root: Path, md5: str) -> Path:
    """Where DVC 3 keeps the object with hash ``md5`` in the project's local cache."""
    return cache_root(root) / "files" / "md5" / md5[:2] / md5[2:]


def read_cached(root: Path, md5: str) -> bytes | None:
    """The object ``md5`` from the local cache (DVC 3 layout, else DVC 2's), if present."""
    for candidate in (cache_file(root, md5), cache_root(root) / md5[:2] / md5[2:]):
        if candidate.is_file():
            return read_bounded(candidate, name=f"DVC cache object {md5}")
    return None


def parse_dir_manifest(data: bytes, where: str) -> dict[str, str]:
    """``relpath -> md5`` of every file of a directory object (its ``.dir`` manifest)."""
    try:
        entries = json_loads(data)
        return {str(e["relpath"]): str(e["md5"]) for e in entries}
    except (ValueError, TypeError, KeyError) as exc:
        raise DvcError(f"{where}: not a DVC directory manifest: {exc}") from None


def materialise(root: Path, md5: str, dest: Path) -> None:
    """Write DVC object ``md5`` of ``root``'s local cache (a file, or every file of a
    directory object) at ``dest``, as a copy: whatever runs there cannot alter the cache.
    DvcError names the object when it is not in the cache."""
    def data_of(object_md5: str) -> bytes:
        data = read_cached(root, object_md5)
        return data if data is not None else _from_remote(root, object_md5)

    if md5.endswith(".dir"):
        manifest = parse_dir_manifest(data_of(md5), f"DVC directory object {md5}")
        for relpath, file_md5 in manifest.items():
            target = (dest / relpath).resolve()
            if not target.is_relative_to(dest.resolve()):  # a crafted manifest
                raise DvcError(f"DVC directory object {md5}: {relpath!r} leaves the directory")
            _write_copy(target, data_of(file_md5))
    else:
        _write_copy(dest, data_of(md5))


def _open_project(root: Path) -> Any:
    """DVC's ``Repo`` for ``root`` (the caller closes it), or one clear error."""
    from dvc.repo import Repo

    try:
        return Repo(str(root))
    except Exception as exc:  # DVC raises its own types for broken projects
        raise DvcError(f"{root}: cannot open the DVC project: {exc}") from None


def _from_remote(root: Path, md5: str, name: str | None = None) -> bytes:
    """Object ``md5`` read from the remote ``name`` (default: the default remote, for a CI
    job that never trained it), checked against its hash: a file object's md5 is the md5
    of its bytes."""
    import hashlib

    repo = _open_project(root)
    try:
        remote = repo.cloud.get_remote(name=name, command="fetch")
        data = bytes(remote.fs.cat_file(_object_path(remote.fs, remote.path, md5)))
    except Exception as exc:  # missing, credentials, network: one line for the user
        where = f"the DVC remote {name!r}" if name else "the DVC remote"
        lead = f"DVC object {md5} is not readable from {where}" if name else \
            f"DVC object {md5} is neither in the local cache nor readable from {where}"
        raise DvcError(f"{lead}: {shorten(' '.join(str(exc).split()), 300)}") from None
    finally:
        repo.close()
    if not md5.endswith(".dir") and hashlib.md5(data).hexdigest() != md5:
        raise DvcError(f"DVC object {md5} from the remote does not match its hash")
    return data


def read_object(root: Path, md5: str) -> bytes:
    """File object ``md5`` from the local cache, else the default remote."""
    data = read_cached(root, md5)
    return data if data is not None else _from_remote(root, md5)


def read_remote_object(root: Path, md5: str, remote: str) -> bytes:
    """File object ``md5`` read from remote ``remote`` only, never from the local cache
    (whose files a pull request's job could have written), checked against its hash."""
    if md5.endswith(".dir"):
        raise DvcError(f"DVC object {md5} is a directory; a single file is expected")
    return _from_remote(root, md5, remote)


def remote_names(root: Path) -> tuple[str, ...]:
    """The DVC remotes ``root``'s configuration names (all levels, as DVC merges them)."""
    from dvc.config import Config

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
    except Exception as exc:  # a malformed config file
        raise DvcError(f"{root / '.dvc'}: cannot read the DVC configuration: {exc}") from None
    return tuple(config.get("remote", {}))


def _write_copy(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


SERVING_PREFIX = "jx-mlops/models"


def serving_copy_path(model: str, version: str, artifact: str) -> str:
    """Where a registered model's named copy lives, relative to the DVC remote's root.

    Serving runtimes (KServe's sklearn, lightgbm, ONNX servers...) find a model by its
    file name; DVC's objects are named by their hash, so each version gets a copy under
    its artifact's own name: ``jx-mlops/models/MODEL/VERSION/model.pkl``.
    """
    directory = model.replace(":", "/")  # a monorepo's DIR:NAME becomes DIR/NAME
    return f"{SERVING_PREFIX}/{directory}/{version}/" \
           f"{os.path.basename(os.path.normpath(artifact))}"


def _object_path(fs: Any, base: str, md5: str) -> str:
    return str(fs.join(base, "files", "md5", md5[:2], md5[2:]))


def _copy_object(fs: Any, base: str, root: Path, md5: str, target: str) -> None:
    if fs.exists(target):
        return  # a version's copy never changes: it exists, it is the right one
    fs.makedirs(fs.parent(target), exist_ok=True)
    source = _object_path(fs, base, md5)
    if fs.exists(source):
        fs.copy(source, target)  # server-side where the remote supports it
        return
    local = cache_file(root, md5)
    if not local.is_file():
        raise DvcError(f"model object {md5} is neither in the DVC remote nor in the local "
                       "cache (run `dvc push` where it was trained)")
    fs.put_file(str(local), target)


def _dir_entries(fs: Any, base: str, root: Path, md5: str) -> list[tuple[str, str]]:
    """(relative path, md5) of every file of a DVC directory object (its .dir manifest)."""
    local = cache_file(root, md5)
    raw = local.read_bytes() if local.is_file() else fs.cat_file(_object_path(fs, base, md5))
    return [(str(e["relpath"]), str(e["md5"])) for e in json_loads(raw)]


def publish_copy(root: Path, md5: str, dest: str) -> str:
    """Put DVC object ``md5`` (a file, or a directory's files) at ``dest``, a path relative
    to the default remote's root; returns its URL. Idempotent."""
    repo = _open_project(root)
    try:
        remote = repo.cloud.get_remote(command="publish")
        fs, base = remote.fs, remote.path
        target = fs.join(base, *dest.split("/"))
        if md5.endswith(".dir"):
            for relpath, file_md5 in _dir_entries(fs, base, root, md5):
                _copy_object(fs, base, root, file_md5, fs.join(target, *relpath.split("/")))
        else:
            _copy_object(fs, base, root, md5, target)
        return str(fs.unstrip_protocol(target))
    except DvcError:
        raise
    except Exception as exc:  # credentials, network, permissions: one line for the user
        raise DvcError(f"cannot publish {dest} to the DVC remote: {exc}") from None
    finally:
        repo.close()


def _remote_fs(uri: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs  # DVC's file systems (s3fs, gcsfs...) plug in here

    fs, path = url_to_fs(uri)
    return fs, str(path)


def fetch_copy(uri: str, into: Path) -> Path:
    """A local path holding the published copy at ``uri`` (a file or a directory): the copy
    itself when the remote is a local directory, else a download under ``into``."""
    if "://" not in uri or uri.startswith("file://"):
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
        if "://" not in uri or uri.startswith("file://"):
            target = Path(uri.removeprefix("file://"))
            target.parent.mkdir(parents=True, exist_ok=True)
            if target != local:
                target.write_bytes(local.read_bytes())
            return
        fs, path = _remote_fs(uri)
        fs.put_file(str(local), path)
    except Exception as exc:
        raise DvcError(f"cannot write {uri} to the DVC remote: {exc}") from None


def remote_object_path(remote_url: str, md5: str) -> str:
    """Where the object with hash ``md5`` lives in a DVC 3 remote."""
    return f"{remote_url.rstrip('/')}/files/md5/{md5[:2]}/{md5[2:]}"


def default_remote_url(root: Path) -> str | None:
    """The URL of the project's default DVC remote, from its committed config."""
    from dvc.config import Config  # lazy: only commands that need it pay the import

    try:
        config = Config(dvc_dir=str(root / ".dvc"), validate=False)
    except Exception as exc:  # DVC raises its own types for unreadable configs
        raise DvcError(f"{root / '.dvc' / 'config'}: cannot read DVC config: {exc}") from None
    name = config.get("core", {}).get("remote")
    remote = config.get("remote", {}).get(name) if name else None
    if not remote:
        return None
    url = str(remote.get("url", ""))
    if url and "://" not in url and not os.path.isabs(url):
        url = os.path.normpath(os.path.join(root, ".dvc", url))
    return url or None
