"""DVC's storage, read by content: the local cache and the remotes.

Every object is read by its id (checked first: ``dvc.hashes``) and its bytes are checked
against that id wherever they come from. The local cache holds whatever the stages that
ran in this job wrote there (a pull request's code), a remote whatever its writers put
in it: neither is trusted for an object's content, only the id the reviewed metadata
names. Serving copies of registered versions are in ``dvc.serving``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from jx_mlops.dvc.hashes import check_object_id, md5_of, object_md5
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
    """Where DVC 3 keeps the object with id ``md5`` in the project's local cache."""
    check_object_id(md5, "DVC object id")
    return cache_root(root) / "files" / "md5" / md5[:2] / md5[2:]


def checked(data: bytes, md5: str, where: str) -> bytes:
    """``data`` when its md5 is object ``md5``'s; DvcError naming ``where`` otherwise."""
    found = md5_of(data)
    if found != object_md5(md5):
        raise DvcError(f"{where}: DVC object {md5} does not match its hash (its bytes have "
                       f"md5 {found}): altered or corrupt, not used")
    return data


def read_cached(root: Path, md5: str) -> bytes | None:
    """The object ``md5`` from the local cache (DVC 3 layout, else DVC 2's), checked
    against its hash; None when the cache does not have it."""
    for candidate in _cache_candidates(root, md5):
        if candidate.is_file():
            data = read_bounded(candidate, name=f"DVC cache object {md5}")
            return checked(data, md5, str(candidate))
    return None


def _inside(relpath: str) -> bool:
    """A manifest's relpath names a file inside its directory: relative, no '..'."""
    parts = relpath.split("/")
    return bool(relpath) and "\x00" not in relpath and not relpath.startswith("/") and \
        all(part not in ("", ".", "..") for part in parts)


def parse_dir_manifest(data: bytes, where: str) -> dict[str, str]:
    """``relpath -> md5`` of every file of a directory object (its ``.dir`` manifest);
    DvcError naming ``where`` and the entry for anything DVC does not write."""
    try:
        entries = json_loads(data)
    except ValueError as exc:
        raise DvcError(f"{where}: not a DVC directory manifest: {exc}") from None
    if not isinstance(entries, list):
        raise DvcError(f"{where}: not a DVC directory manifest: expected a list of files")
    manifest: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DvcError(f"{where}: [{index}]: expected an object with relpath and md5")
        relpath = entry.get("relpath")
        if not isinstance(relpath, str) or not _inside(relpath):
            raise DvcError(f"{where}: [{index}].relpath: expected a path inside the "
                           f"directory, got {relpath!r:.80}")
        md5 = check_object_id(entry.get("md5"), f"{where}: [{index}].md5")
        if md5.endswith(".dir"):
            raise DvcError(f"{where}: [{index}].md5: a directory inside a directory "
                           f"manifest ({md5})")
        manifest[relpath] = md5
    return manifest


def materialise(root: Path, md5: str, dest: Path, remote: str | None = None) -> None:
    """Write DVC object ``md5`` (a file, or every file of a directory object) at ``dest``
    as a copy (whatever runs there cannot alter the cache), from the local cache, else
    ``remote`` (default: the default remote), every object checked against its hash as
    it streams (a model may be larger than memory). DvcError names the object when it is
    in neither, or does not match its hash."""
    with _Objects(root, remote) as objects:
        if md5.endswith(".dir"):
            manifest = parse_dir_manifest(objects.read(md5), f"DVC directory object {md5}")
            for relpath, file_md5 in manifest.items():
                objects.copy(file_md5, dest / relpath)
        else:
            objects.copy(md5, dest)


def open_project(root: Path) -> Any:
    """DVC's ``Repo`` for ``root`` (the caller closes it), or one clear error."""
    from dvc.repo import Repo

    try:
        return Repo(str(root))
    except Exception as exc:  # DVC raises its own types for broken projects
        raise DvcError(f"{root}: cannot open the DVC project: {exc}") from None


class _Objects:
    """Objects of the project's local cache, else of one remote (``name``; None: the
    default), opened once when first needed; every object checked against its id."""

    def __init__(self, root: Path, name: str | None = None, *, cache: bool = True) -> None:
        self._root = root
        self._name = name
        self._cache = cache
        self._repo: Any = None
        self._remote: Any = None

    def __enter__(self) -> _Objects:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._repo is not None:
            self._repo.close()

    @property
    def _where(self) -> str:
        return f"the DVC remote {self._name!r}" if self._name else "the DVC remote"

    def _failed(self, md5: str, exc: Exception) -> DvcError:
        lead = f"DVC object {md5} is not readable from {self._where}" if not self._cache \
            else f"DVC object {md5} is neither in the local cache nor readable from " \
                 f"{self._where}"
        return DvcError(f"{lead}: {shorten(' '.join(str(exc).split()), 300)}")

    def _remote_path(self, md5: str) -> tuple[Any, str]:
        check_object_id(md5, "DVC object id")
        try:
            if self._remote is None:
                self._repo = open_project(self._root)
                self._remote = self._repo.cloud.get_remote(name=self._name, command="fetch")
            return self._remote.fs, object_path(self._remote.fs, self._remote.path, md5)
        except DvcError:
            raise
        except Exception as exc:  # credentials, a remote not configured
            raise self._failed(md5, exc) from None

    def read(self, md5: str) -> bytes:
        """The bytes of a (small) object: a ``.dir`` manifest, a holdout, an export."""
        data = read_cached(self._root, md5) if self._cache else None
        if data is not None:
            return data
        fs, path = self._remote_path(md5)
        try:
            data = bytes(fs.cat_file(path))
        except Exception as exc:  # missing, credentials, network: one line for the user
            raise self._failed(md5, exc) from None
        return checked(data, md5, self._where)

    def copy(self, md5: str, dest: Path) -> None:
        """File object ``md5`` streamed to ``dest``, written only if it matches its id."""
        for local in _cache_candidates(self._root, md5) if self._cache else ():
            if local.is_file():
                with local.open("rb") as source:
                    _stream_checked(source, md5, dest, str(local))
                return
        fs, path = self._remote_path(md5)
        try:
            source = fs.open(path, "rb")
        except Exception as exc:  # missing, credentials, network
            raise self._failed(md5, exc) from None
        with source:
            _stream_checked(source, md5, dest, self._where)


def _cache_candidates(root: Path, md5: str) -> tuple[Path, Path]:
    """Where the local cache keeps object ``md5``: DVC 3's layout, then DVC 2's."""
    return cache_file(root, md5), cache_root(root) / md5[:2] / md5[2:]


def _stream_checked(source: BinaryIO, md5: str, dest: Path, where: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.jx-mlops-partial")
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with partial.open("wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != object_md5(md5):
            raise DvcError(f"{where}: DVC object {md5} does not match its hash (its bytes "
                           f"have md5 {digest.hexdigest()}): altered or corrupt, not used")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def _from_remote(root: Path, md5: str, name: str | None = None) -> bytes:
    """Object ``md5`` read from the remote ``name`` (default: the default remote, for a CI
    job that never trained it), never the local cache, checked against its hash."""
    with _Objects(root, name, cache=False) as objects:
        return objects.read(md5)


def read_object(root: Path, md5: str) -> bytes:
    """File object ``md5`` from the local cache, else the default remote."""
    with _Objects(root) as objects:
        return objects.read(md5)


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


def object_path(fs: Any, base: str, md5: str) -> str:
    """Where object ``md5`` lives under ``base`` of the file system ``fs`` (DVC 3)."""
    check_object_id(md5, "DVC object id")
    return str(fs.join(base, "files", "md5", md5[:2], md5[2:]))


def remote_object_path(remote_url: str, md5: str) -> str:
    """Where the object with hash ``md5`` lives in a DVC 3 remote."""
    check_object_id(md5, "DVC object id")
    return f"{remote_url.rstrip('/')}/files/md5/{md5[:2]}/{md5[2:]}"


def default_remote_url(root: Path) -> str | None:
    """The URL of the project's default DVC remote, from its committed config."""
    found = default_remote(root)
    return found[1] if found else None


def restore_output(root: Path, md5: str, dest: Path, remote: str | None = None) -> int:
    """Output ``md5`` (a file or a directory object) read from the DVC remote only, never
    the local cache nor DVC's run cache, every object checked against its hash; put in the
    local cache as DVC lays it out and copied to ``dest`` (replacing what is there).
    Returns the number of files."""
    with _Objects(root, remote, cache=False) as objects:
        if md5.endswith(".dir"):
            data = objects.read(md5)
            files = parse_dir_manifest(data, f"DVC directory object {md5}")
            _write_cached(root, md5, data)
        else:
            files = {"": md5}
        for file_md5 in files.values():
            if not cache_file(root, file_md5).is_file():
                objects.copy(file_md5, cache_file(root, file_md5))
    if dest.is_dir() and not dest.is_symlink():
        shutil.rmtree(dest)
    for relpath, file_md5 in files.items():
        target = dest / relpath if relpath else dest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.copyfile(cache_file(root, file_md5), target)
    return len(files)


def _write_cached(root: Path, md5: str, data: bytes) -> None:
    path = cache_file(root, md5)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def default_remote(root: Path) -> tuple[str, str] | None:
    """The name and URL of the project's default DVC remote (its config, config.local
    included), a relative path made absolute."""
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
    return (str(name), url) if url else None
