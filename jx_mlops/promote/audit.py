"""`jx-mlops audit`: check every deployment record against the registry and the source.

For each record of each environment repository:

- the record is what the last promotion commit of that model wrote (same blob), and so
  are its model card and serving manifest: a hand edit after the promotion is caught;
- the registry tag exists in the source repository, is annotated, points at the recorded
  commit and is the very tag object that was promoted (not deleted and re-made);
- the commit exists and its dvc.lock records the artifact with the recorded md5, as does
  the tag's metadata; the storage URI is that md5's object in the recorded DVC remote;
- what the serving files deploy is what the record says (nothing, when disabled);
- the serving copy a record deploys, and the DVC remote's object of the artifact's md5,
  hash to the md5 and sha256 the tag records (a writer of the remote can replace either);
- a signed version's published copy still matches its signature (each file that no longer
  does is named), checked with the key of the project that deployed it (several projects
  may share an environment repository: see ``projectkeys``), and the record's bundle is the
  one the tag's metadata registered;
- a version pushed to an OCI registry (``registry.oci``) is there as its tag records it:
  the manifest fetched by the recorded digest and every layer re-hashed (a layer that
  differs is named), and the tag in the registry still names that digest;
- a GTO stage tag in the source repository that shows a version in the environment's
  stage shows the recorded one (none, when disabled), unless ``registry.gto_stages`` is off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from jx_mlops import oci
from jx_mlops.config.project import EnvironmentConfig, ProjectConfig
from jx_mlops.dvc.lockfile import parse_lock
from jx_mlops.dvc.serving import serving_copy_path
from jx_mlops.dvc.storage import remote_object_path
from jx_mlops.environments.history import HistoryEvent, latest_events, read_events
from jx_mlops.environments.records import DeploymentRecord, card_path, record_names, record_path
from jx_mlops.environments.repo import EnvironmentRepo, mirror
from jx_mlops.errors import DvcError, JxMlopsError
from jx_mlops.forge.base import Forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.promote.manifests import (
    helmfile_path,
    served_version,
    serving_inputs,
    serving_path,
    storage_uri,
)
from jx_mlops.promote.projectkeys import RecordTrusts
from jx_mlops.promote.stage_tags import shown_in
from jx_mlops.registry.copies import copy_problems
from jx_mlops.registry.signatures import project_trust, verify_copy
from jx_mlops.registry.tags import ModelVersion, find_version, tag_name
from jx_mlops.signing import Trust


@dataclass(frozen=True)
class Finding:
    """One mismatch: which record, and what is wrong with it."""

    environment: str
    model: str
    problem: str
    project: str = ""  # the source repository of the project that deployed it


@dataclass(frozen=True)
class AuditReport:
    """Records checked and mismatches found."""

    checked: tuple[tuple[str, str, str, str], ...] = ()  # environment, model, version, project
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok,
                "checked": [{"environment": e, "model": m, "version": v, "project": p}
                            for e, m, v, p in self.checked],
                "findings": [asdict(f) for f in self.findings]}


@dataclass
class _Sources:
    """Mirrors of source repositories, fetched once per audit."""

    forge: Forge
    repos: dict[str, GitRepo | None] = field(default_factory=dict)

    def get(self, name: str) -> GitRepo | None:
        if name not in self.repos:
            found = self.forge.find_repo(name) is not None
            self.repos[name] = mirror(self.forge, name, tags=True)[0] if found else None
        return self.repos[name]

    def close(self) -> None:
        for repo in self.repos.values():
            if repo is not None:
                repo.close()


def run_audit(config: ProjectConfig, forge: Forge, *, environment: str | None = None
              ) -> AuditReport:
    """Audit every record of the project's environments (or of ``environment``)."""
    envs = [config.environment(environment)] if environment else list(config.environments)
    sources = _Sources(forge)
    trusts = RecordTrusts(config.forge.repo, project_trust(config), sources.get)
    checked: list[tuple[str, str, str, str]] = []
    findings: list[Finding] = []
    try:
        for env in envs:
            env_repo = EnvironmentRepo(forge, env.repo)
            try:
                if env_repo.exists:
                    _audit_env(env, env_repo.git, env_repo.branch, sources, checked, findings,
                               gto_stages=config.gto_stages, trusts=trusts)
            finally:
                env_repo.close()
    finally:
        trusts.close()
        sources.close()
    return AuditReport(tuple(checked), tuple(findings))


def _audit_env(env: EnvironmentConfig, repo: GitRepo, branch: str, sources: _Sources,
               checked: list[tuple[str, str, str, str]], findings: list[Finding], *,
               gto_stages: bool, trusts: RecordTrusts) -> None:
    tip = repo.rev_parse(branch)
    names = record_names(repo, tip)
    latest = latest_events(read_events(repo, tip))
    blobs = repo.read_blobs(tip, [record_path(n) for n in names])
    for name in names:
        problems: list[str] = []
        try:
            record = DeploymentRecord.from_yaml(blobs[record_path(name)] or b"", name)
        except JxMlopsError as exc:
            findings.append(Finding(env.name, name, f"unreadable record: {exc.message}"))
            continue
        checked.append((env.name, name, record.version, record.source_repo))
        problems += _identity_problems(record, name, env)
        problems += _written_by_promotion(repo, tip, env, name, latest.get(name))
        problems += _source_problems(record, sources)
        problems += _serving_problems(repo, tip, env, record)
        problems += _signature_problems(record, trusts.trust_for(record))
        if gto_stages:
            problems += _gto_stage_problems(record, env, sources)
        findings += [Finding(env.name, name, p, record.source_repo) for p in problems]


def _identity_problems(record: DeploymentRecord, name: str, env: EnvironmentConfig
                       ) -> list[str]:
    problems = []
    if record.model != name:
        problems.append(f"{record_path(name)} names model {record.model!r}")
    if record.environment != env.name:
        problems.append(f"{record_path(name)} names environment {record.environment!r}")
    return problems


def _written_paths(env: EnvironmentConfig, name: str) -> list[str]:
    paths = [record_path(name), card_path(name)]
    return paths + ([serving_path(name)] if env.layout == "kserve" else [])


def _written_by_promotion(repo: GitRepo, tip: str, env: EnvironmentConfig, name: str,
                          event: HistoryEvent | None) -> list[str]:
    if event is None:
        return [f"no jx-mlops promotion commit wrote {record_path(name)} (added by hand?)"]
    paths = _written_paths(env, name)
    ids = repo.object_ids([f"{rev}:{p}" for p in paths for rev in (event.commit, tip)])
    return [f"{path} differs from what promotion commit {event.commit[:12]} wrote "
            "(edited by hand?)" for path in paths
            if ids[f"{event.commit}:{path}"] != ids[f"{tip}:{path}"]]


def _gto_stage_problems(record: DeploymentRecord, env: EnvironmentConfig,
                        sources: _Sources) -> list[str]:
    """Does a GTO stage tag (``gto show``) disagree with the environment repository?

    A stage GTO shows no version in is not a disagreement: a run killed between the merge
    and the stage tag leaves it so, and the re-run writes it.
    """
    source = sources.get(record.source_repo)
    if source is None:
        return []
    name = record.registry_name or record.model
    shown = shown_in(source, name, env.name)
    if shown is None:
        return []
    if record.state == "serving" and shown.version == record.version:
        return []
    runs = f"runs {record.version}" if record.state == "serving" else \
        "serves nothing (disabled)"
    return [f"GTO stage tags of {name} show {shown.version} in stage {env.name}, but the "
            f"environment {runs}"]


def _source_problems(record: DeploymentRecord, sources: _Sources) -> list[str]:
    source = sources.get(record.source_repo)
    if source is None:
        return [f"source repository {record.source_repo} is not on the forge"]
    if source.try_rev_parse(record.source_commit) is None:
        return [f"commit {record.source_commit[:12]} does not exist in {record.source_repo}"]
    version = find_version(source, record.registry_name or record.model, record.version)
    problems = _tag_problems(record, source, version)
    problems += _lock_problems(record, source)
    if version is not None:
        problems += _byte_problems(record, version)
        problems += _oci_problems(record, version)
    if record.storage and record.artifact_md5 and record.storage_uri != \
            remote_object_path(record.storage, record.artifact_md5):
        problems.append(f"storage URI {record.storage_uri} is not the object of md5 "
                        f"{record.artifact_md5} in {record.storage}")
    expected = f"{str(record.storage).rstrip('/')}/" + serving_copy_path(
        record.registry_name or record.model, record.version, record.artifact_path)
    if record.serving_uri and record.storage and record.serving_uri != expected:
        problems.append(f"serving URI {record.serving_uri} is not the copy of "
                        f"{record.tag} ({expected})")
    return problems


def _tag_problems(record: DeploymentRecord, source: GitRepo, version: ModelVersion | None
                  ) -> list[str]:
    name = record.registry_name or record.model
    tag = tag_name(name, record.version)
    problems = [] if record.tag == tag else [
        f"the record says version {record.version} but tag {record.tag}"]
    if version is None:
        return [*problems, f"registry tag {tag} is missing (or not annotated) in "
                           f"{record.source_repo}"]
    if version.commit != record.source_commit:
        problems.append(f"tag {tag} points at {version.commit[:12]}, the record says "
                        f"{record.source_commit[:12]} (tag moved?)")
    elif record.tag_object and version.tag_object != record.tag_object:
        problems.append(f"tag {tag} is not the tag object that was promoted "
                        f"({version.tag_object[:12]} != {record.tag_object[:12]}: re-created?)")
    signed = (version.metadata.get("signature") or {}).get("sha256")
    if version.metadata.get("artifact") and signed != record.signature.get("sha256"):
        problems.append(f"signature sha256 {record.signature.get('sha256')} differs from the "
                        f"registry metadata of {tag} ({signed})")
    md5 = (version.metadata.get("artifact") or {}).get("md5")
    if md5 and md5 != record.artifact_md5:
        problems.append(f"artifact md5 {record.artifact_md5} differs from the registry "
                        f"metadata of {tag} ({md5})")
    return problems


def _byte_problems(record: DeploymentRecord, version: ModelVersion) -> list[str]:
    """The serving copy the record deploys and the DVC remote's object of its md5, hashed
    now, against the tag's md5 and sha256 (a writer of the remote can replace either)."""
    try:
        return copy_problems(version.tag, version.metadata.get("artifact") or {},
                             record.serving_uri if record.serving else None, record.storage)
    except JxMlopsError as exc:
        return [exc.message]


def _oci_problems(record: DeploymentRecord, version: ModelVersion) -> list[str]:
    """The OCI artifact a serving record deploys, resolved by the digest its tag records
    (the manifest and each layer re-hashed; a layer that differs is named)."""
    recorded = (version.metadata.get("artifact") or {}).get("oci") or {}
    if not record.serving or not recorded:
        return []
    problems = [] if record.oci.get("digest") == recorded.get("digest") else [
        f"OCI digest {record.oci.get('digest')} differs from the registry metadata of "
        f"{version.tag} ({recorded.get('digest')})"]
    try:
        check = oci.verify(recorded)
    except JxMlopsError as exc:
        return [*problems, exc.message]
    return [*problems, *([] if check.ok else [check.detail]), *check.notes]


def _lock_problems(record: DeploymentRecord, source: GitRepo) -> list[str]:
    prefix = f"{record.project_path}/" if record.project_path else ""
    data = source.read_blob(record.source_commit, f"{prefix}dvc.lock")
    if data is None:
        return [f"no dvc.lock at {record.source_commit[:12]} in {record.source_repo}"]
    try:
        lock = parse_lock(data.decode("utf-8", "replace"), f"dvc.lock at "
                              f"{record.source_commit[:12]}")
    except DvcError as exc:
        return [exc.message]
    out = lock.output(record.artifact_path)
    if out is None:
        return [f"{record.artifact_path} is not an output in dvc.lock at "
                f"{record.source_commit[:12]}"]
    if out.md5 != record.artifact_md5:
        return [f"artifact md5 {record.artifact_md5} differs from dvc.lock at "
                f"{record.source_commit[:12]} ({out.md5})"]
    return []


def _serving_problems(repo: GitRepo, tip: str, env: EnvironmentConfig,
                      record: DeploymentRecord) -> list[str]:
    files = repo.read_blobs(tip, serving_inputs(record.model, env))
    try:
        version, uri = served_version(record.model, env, files)
    except JxMlopsError as exc:
        return [exc.message]
    where = helmfile_path(env.namespace) if env.layout == "jenkins-x" \
        else serving_path(record.model)
    if not record.serving:
        return [f"{where} still deploys {version} but the record says disabled"] \
            if version is not None else []
    if version != record.version:
        return [f"{where} deploys {version or 'nothing'}, the record says {record.version}"]
    try:
        expected = storage_uri(record)
    except JxMlopsError:
        return []
    return [] if uri == expected else [f"{where} downloads {uri}, the record says {expected}"]


def _signature_problems(record: DeploymentRecord, trust: Trust | str) -> list[str]:
    """Re-verify the copy a serving record deploys with ``trust``, the deploying project's
    (unsigned versions have nothing to verify: the record says so, and lineage shows them
    as unsigned; a string: why the deploying project's trust is unknown)."""
    if not record.serving or not record.signature:
        return []
    if isinstance(trust, str):
        return [trust]
    check = verify_copy(record.serving_uri, record.signature, trust)
    return [] if check.verified else [check.detail]


def summarize(findings: Sequence[Finding]) -> str:
    """'2 mismatches in staging/churn, production/churn'."""
    where = sorted({f"{f.environment}/{f.model}" for f in findings})
    return f"{len(findings)} mismatch{'es' if len(findings) != 1 else ''} in {', '.join(where)}"
