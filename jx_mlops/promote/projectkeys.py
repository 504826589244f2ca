"""Whose key checks a deployment record, when several projects share an environment
repository (the quickstarts all deploy to ``environment-staging``/``-production``).

A record's signature was made with the key of the project that deployed it, named in the
record (``source.repo``, and the key's fingerprint in ``signature.public_key_sha256``).
Checked with the key of the project running ``audit``, another project's records would
fail for good. So a record of another project is checked against what *that* project
trusts: its mlops.yaml ``signing:`` and public key as committed at the version's source
commit (reviewed code of the source repository, read from the forge, never from the
record or the bundle being checked).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from jx_mlops.config.project import parse_config
from jx_mlops.environments.records import DeploymentRecord
from jx_mlops.errors import JxMlopsError
from jx_mlops.git.repo import GitRepo
from jx_mlops.signing import Trust


class RecordTrusts:
    """The :class:`Trust` each record is checked with, read once per source commit."""

    def __init__(self, project: str, own: Trust,
                 source: Callable[[str], GitRepo | None]) -> None:
        self.project, self._own, self._source = project, own, source
        self._found: dict[tuple[str, str, str], Trust | str] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def trust_for(self, record: DeploymentRecord) -> Trust | str:
        """The deploying project's trust; a string says why it cannot be known."""
        if record.source_repo == self.project:
            return self._own
        key = (record.source_repo, record.source_commit, record.project_path)
        if key not in self._found:
            self._found[key] = self._read(*key)
        return self._found[key]

    def _read(self, repo: str, commit: str, directory: str) -> Trust | str:
        source = self._source(repo)
        where = f"{repo}'s mlops.yaml at {commit[:12]}"
        if source is None:
            return f"deployed by {repo}, which is not on the forge: no key to check it with"
        prefix = f"{directory.strip('/')}/" if directory.strip("/") else ""
        text = source.read_blob(commit, f"{prefix}mlops.yaml")
        if text is None:
            return f"deployed by {repo}, but {where} is missing: no key to check it with"
        try:
            signing = parse_config(text.decode("utf-8", "replace"),
                                   Path(f"{repo}/{prefix}mlops.yaml")).signing
        except JxMlopsError as exc:
            return f"deployed by {repo}, but {where} cannot be read: {exc.message}"
        if signing is None:
            return f"deployed by {repo}, whose {where[len(repo) + 3:]} configures no signing"
        public_key = None
        if signing.public_key:
            pem = source.read_blob(commit, f"{prefix}{signing.public_key}")
            if pem is None:
                return f"deployed by {repo}, but its {signing.public_key} at {commit[:12]} " \
                       "is missing"
            public_key = self._keep(pem)
        return Trust(public_key=public_key, identity=signing.identity, issuer=signing.issuer)

    def _keep(self, pem: bytes) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="jx-mlops-keys-")
        path = Path(self._tmp.name) / f"{len(list(Path(self._tmp.name).iterdir()))}.pub"
        path.write_bytes(pem)
        return path

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
