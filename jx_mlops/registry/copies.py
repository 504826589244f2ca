"""What a registered version's bytes hash to now, against what its tag records.

A version's tag records the artifact's md5 (DVC's object id) and, once published, its
sha256. Two copies in the DVC remote stand for it: the serving copy the inference service
downloads (``jx-mlops/models/MODEL/VERSION/FILE``) and DVC's content-addressed object
(``files/md5/XX/REST``) the next release would copy from. A writer of the remote can
replace either; ``copy_problems`` hashes both and names each that differs. A remote
object that is not there is not a finding (never pushed, or garbage-collected): what is
there must be the version's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jx_mlops.dvc.hashes import OBJECT_ID, Digests, object_md5
from jx_mlops.dvc.serving import copy_digests, read_manifest
from jx_mlops.dvc.storage import remote_object_path


def copy_problems(tag: str, artifact: Mapping[str, Any], serving_uri: str | None,
                  storage: str | None) -> list[str]:
    """Each copy of version ``tag`` (its serving copy at ``serving_uri``, its objects in
    the remote at ``storage``) whose bytes differ from the tag's ``artifact`` hashes."""
    md5 = artifact.get("md5")
    if not isinstance(md5, str) or not OBJECT_ID.fullmatch(md5):
        return []
    if md5.endswith(".dir"):
        return _directory_problems(tag, md5, serving_uri, storage)
    sha256 = artifact.get("sha256") if isinstance(artifact.get("sha256"), str) else None
    problems = []
    if serving_uri:
        found = copy_digests(serving_uri)
        problems += [f"serving copy {serving_uri} is missing"] if found is None else \
            _differs(f"serving copy {serving_uri}", found[""], tag, md5, sha256)
    if storage:
        uri = remote_object_path(storage, md5)
        found = copy_digests(uri)
        if found is not None:
            problems += _differs(f"DVC remote object {uri}", found[""], tag, md5, sha256)
    return problems


def _differs(what: str, found: Digests, tag: str, md5: str, sha256: str | None) -> list[str]:
    if found.md5 != md5:
        return [f"{what} has md5 {found.md5}, but {tag} records {md5} (replaced?)"]
    if sha256 is not None and found.sha256 != sha256:
        return [f"{what} has sha256 {found.sha256}, but {tag} records {sha256} (replaced?)"]
    return []


def _directory_problems(tag: str, md5: str, serving_uri: str | None, storage: str | None
                        ) -> list[str]:
    """A directory version: its manifest object against the tag's md5, then each file of
    the serving copy and each file object against the manifest."""
    if not storage:
        return []
    uri = remote_object_path(storage, md5)
    found = copy_digests(uri)
    if found is None:
        return []  # nothing to check the files against
    if found[""].md5 != object_md5(md5):
        return [f"DVC remote object {uri} has md5 {found[''].md5}, but {tag} records "
                f"{md5} (replaced?)"]
    manifest = read_manifest(uri, md5) or {}
    problems = []
    if serving_uri:
        copy = copy_digests(serving_uri, directory=True)
        if copy is None:
            problems.append(f"serving copy {serving_uri} is missing")
        else:
            problems += [f"serving copy {serving_uri}: {relpath} "
                         f"{'is not in' if relpath not in manifest else 'differs from'} "
                         f"{tag}'s manifest" for relpath in sorted(copy)
                         if manifest.get(relpath) != copy[relpath].md5]
            problems += [f"serving copy {serving_uri}: {relpath} (of {tag}) is missing"
                         for relpath in sorted(set(manifest) - set(copy))]
    for relpath, file_md5 in sorted(manifest.items()):
        object_uri = remote_object_path(storage, file_md5)
        there = copy_digests(object_uri)
        if there is not None and there[""].md5 != file_md5:
            problems.append(f"DVC remote object {object_uri} ({relpath} of {tag}) has md5 "
                            f"{there[''].md5} (replaced?)")
    return problems
