"""`jx-mlops retrain`: a params change on a new branch from the default branch, as a PR.

Params are edited line by line so the comments and layout of params.yaml survive; the
result is parsed back and checked before anything is committed.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import yaml

from jx_mlops import console
from jx_mlops.config.project import ProjectConfig
from jx_mlops.errors import JxMlopsError, UsageError
from jx_mlops.evaluation.formats import read_values
from jx_mlops.forge.base import Forge, PullRequest
from jx_mlops.forge.kinds import open_forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.yamlio import safe_load, yaml_problem

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[^\s#:][^:#]*?)\s*:(?P<rest>.*)$")


@dataclass(frozen=True)
class ParamSetting:
    """``file:dotted.key=value`` from the command line, value parsed as YAML (``raw``: the
    value as typed, which names the branch)."""

    file: str
    key: str
    value: Any
    text: str
    raw: str = ""


def parse_setting(text: str, default_file: str) -> ParamSetting:
    """Parse ``[FILE:]KEY=VALUE``; the value is YAML (``200`` is an int, ``'200'`` a string)."""
    if "=" not in text:
        raise UsageError(f"--set {text!r}: expected KEY=VALUE, e.g. train.n_estimators=200")
    key, raw = text.split("=", 1)
    file = default_file
    if ":" in key:
        file, key = key.split(":", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise UsageError(f"--set {text!r}: invalid key {key!r}")
    try:
        value = safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise UsageError(f"--set {text!r}: the value is not valid YAML ({yaml_problem(exc)}); "
                         f"""quote text: {key}='"..."'""") from None
    if isinstance(value, (dict, list)):
        raise UsageError(f"--set {text!r}: only scalar values can be set")
    return ParamSetting(file, key, value, f"{key}={raw}", raw.strip())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list or mapping" if isinstance(value, (list, dict)) else type(value).__name__


def typed_setting(setting: ParamSetting, current: Any, file: str) -> ParamSetting:
    """``setting`` with its value of the current value's type (a number stays a number, a
    boolean a boolean, text text: ``1`` for a float is ``1.0``, ``123`` for text is
    ``'123'``); UsageError naming the file, key and both values when it cannot be."""
    new = setting.value
    if current is None or type(new) is type(current):
        return setting
    if isinstance(current, float) and not isinstance(new, bool):
        with contextlib.suppress(TypeError, ValueError):  # 200, or 1e-3 (text to YAML 1.1)
            return replace(setting, value=float(new))
    if isinstance(current, str) and not isinstance(new, (list, dict)):
        return replace(setting, value=setting.raw)
    raise UsageError(f"--set {setting.text}: {file} has {setting.key}: {_scalar(current)}, "
                     f"{_kind(current)}; {setting.raw!r} is {_kind(new)}")


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _replace_line(lines: list[str], path: list[str], value: Any) -> bool:
    """Set the block-style mapping entry at ``path`` in place; False if there is none."""
    ancestors: list[tuple[int, str]] = []
    for index, line in enumerate(lines):
        match = _KEY_LINE.match(line)
        if not match or line.lstrip().startswith(("#", "-")):
            continue
        indent = len(match["indent"])
        while ancestors and ancestors[-1][0] >= indent:
            ancestors.pop()
        key = match["key"].strip().strip("'\"")
        if [k for _, k in ancestors] + [key] == path:
            rest = match["rest"]
            comment = "  #" + rest.split(" #", 1)[1] if " #" in rest else ""
            lines[index] = f"{match['indent']}{match['key']}: {_scalar(value)}{comment}"
            return True
        ancestors.append((indent, key))
    return False


def _values(text: str, where: str) -> dict[str, Any]:
    """The flattened params of ``text``; UsageError naming ``where`` if it has none."""
    try:
        return read_values(where, text.encode("utf-8"))
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


def apply_settings(text: str, settings: Sequence[ParamSetting], where: str) -> str:
    """``text`` of a params file with every setting applied and verified."""
    current = _values(text, where)
    lines = text.splitlines()
    for setting in settings:
        if setting.key not in current:
            close = difflib.get_close_matches(setting.key, list(current), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(f"{where}: no param {setting.key!r}{hint}")
        if not _replace_line(lines, setting.key.split("."), setting.value):
            raise UsageError(f"{where}: {setting.key} is not a simple `key: value` line; "
                             "edit it by hand")
    result = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
    check = _values(result, where)
    for setting in settings:
        if check.get(setting.key) != setting.value:
            raise UsageError(f"{where}: setting {setting.key} did not round-trip; edit by hand")
    return result


_PARAMS_SUFFIXES = (".yaml", ".yml")


def check_params_file(file: str) -> str:
    """``file`` as a path inside the repository that `retrain` may edit, or UsageError.

    Only YAML files in the work tree qualify: not an absolute path, nothing with ``..``,
    nothing under ``.dvc/`` or ``.git`` (retrain edits params, never DVC's or git's own
    configuration).
    """
    pure = PurePosixPath(file)
    if (not file or file.startswith("/") or "\\" in file or PureWindowsPath(file).drive
            or any(part in ("..", "") for part in file.split("/"))):
        raise UsageError(f"--set {file}:...: the params file must be a path inside the "
                         "repository, without '..'")
    if pure.parts[0] in (".dvc", ".git") or pure.parts[0].startswith(".git"):
        raise UsageError(f"--set {file}:...: {pure.parts[0]}/ is not a params file; "
                         "retrain only edits params (YAML) files")
    if pure.suffix not in _PARAMS_SUFFIXES:
        raise UsageError(f"--set {file}:...: retrain edits YAML params files "
                         "(.yaml, .yml)")
    return pure.as_posix()


def _branch_name(taken: set[str], settings: Sequence[ParamSetting]) -> str:
    # The values as typed: `drop_sensitive=false` names retrain/drop_sensitive-false.
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(
        f"{s.key.split('.')[-1]}-{s.raw or _scalar(s.value)}" for s in settings)
    ).strip("-.")[:50] or "params"
    name, n = f"retrain/{slug}", 2
    while name in taken:
        name, n = f"retrain/{slug}-{n}", n + 1
    return name


@dataclass(frozen=True)
class _Plan:
    """Everything retrain will write, decided before anything is written."""

    base_branch: str
    base_sha: str
    branch: str
    files: dict[str, bytes]
    settings: tuple[ParamSetting, ...]

    @property
    def summary(self) -> str:
        return ", ".join(s.text for s in self.settings)


def _remote_branches(repo: GitRepo, forge: Forge) -> set[str]:
    out = repo.run("ls-remote", "--heads", "origin", env=forge.git_env() or None)
    return {line.split("refs/heads/", 1)[1] for line in out.splitlines()
            if "refs/heads/" in line}


def _local_branches(repo: GitRepo) -> set[str]:
    return set(repo.run("for-each-ref", "--format=%(refname:strip=2)",
                        "refs/heads/").splitlines())


def _check_branch(repo: GitRepo, forge: Forge, config: ProjectConfig, branch: str,
                  base_branch: str, remote: set[str]) -> None:
    """Refuse a ``--branch`` retrain must not write: default, existing, or an open PR's."""
    if repo.run("check-ref-format", "--branch", branch, check=False) != branch:
        raise UsageError(f"--branch {branch!r} is not a valid branch name")
    if branch == base_branch:
        raise UsageError(f"--branch {branch}: that is the default branch; retrain opens a "
                         "pull request from a new branch")
    pulls = forge.list_pulls(config.forge.repo, head=branch)
    if pulls:
        raise UsageError(f"--branch {branch}: pull request #{pulls[0].number} is open from "
                         "it; pick a new branch name")
    if branch in _local_branches(repo):
        raise UsageError(f"--branch {branch}: a local branch of that name exists; retrain "
                         "never rewrites a branch (pick a new name or delete it)")
    if branch in remote:
        raise UsageError(f"--branch {branch}: the branch exists on {config.forge.repo}; "
                         "pick a new name")


def _read_params(data: bytes, file: str) -> tuple[str, dict[str, Any]]:
    """The text of a params file and its flattened values; UsageError if it is not a
    YAML mapping (retrain would not know where to write)."""
    try:
        return data.decode("utf-8"), read_values(file, data)
    except UnicodeDecodeError:
        raise UsageError(f"{file} on the default branch is not UTF-8 text") from None
    except ValueError as exc:
        raise UsageError(f"{file} on the default branch: {exc}") from None


def _new_texts(repo: GitRepo, base_sha: str, settings: Sequence[ParamSetting]
               ) -> dict[str, bytes]:
    """The params files at ``base_sha`` with the settings applied; a no-op is refused."""
    by_file: dict[str, list[ParamSetting]] = {}
    for setting in settings:
        by_file.setdefault(setting.file, []).append(setting)
    texts = {}
    for file, items in by_file.items():
        data = repo.read_blob(base_sha, file)
        if data is None:
            raise UsageError(f"params file {file} not found on the default branch")
        text, current = _read_params(data, file)
        items = [typed_setting(s, current[s.key], file) if s.key in current else s
                 for s in items]
        unchanged = [s for s in items if s.key in current and current[s.key] == s.value]
        if unchanged:
            s = unchanged[0]
            raise UsageError(f"--set {s.text}: {file} already has {s.key}: "
                             f"{_scalar(current[s.key])} on the default branch; nothing "
                             "to retrain")
        texts[file] = apply_settings(text, items, file).encode("utf-8")
    return texts


def _plan(config: ProjectConfig, repo: GitRepo, forge: Forge, settings: Sequence[ParamSetting],
          branch: str | None) -> _Plan:
    """Fetch the default branch and decide every write; raises before changing anything
    but the remote-tracking ref of the default branch."""
    base_branch = forge.get_repo(config.forge.repo).default_branch
    remote = _remote_branches(repo, forge)
    if branch is not None:
        _check_branch(repo, forge, config, branch, base_branch, remote)
    with console.step(f"Fetching {base_branch}"):
        repo.fetch("origin", [f"+refs/heads/{base_branch}:refs/remotes/origin/{base_branch}"],
                   env=forge.git_env())
    base_sha = repo.rev_parse(f"refs/remotes/origin/{base_branch}")
    files = _new_texts(repo, base_sha, settings)
    if branch is None:
        branch = _branch_name(remote | _local_branches(repo), settings)
        _check_branch(repo, forge, config, branch, base_branch, remote)
    return _Plan(base_branch, base_sha, branch, files, tuple(settings))


def _pull_body(settings: Sequence[ParamSetting]) -> str:
    return ("Retrain with changed params:\n\n"
            + "\n".join(f"- `{s.file}`: `{s.key}` = `{_scalar(s.value)}`" for s in settings)
            + "\n\nCI trains this branch (`jx-mlops ci pr`) and posts the evaluation.\n")


def _publish(config: ProjectConfig, repo: GitRepo, forge: Forge, plan: _Plan,
             title: str | None) -> PullRequest:
    """Commit (without touching the work tree), push, open the PR; undone on failure."""
    sha = repo.commit_files(plan.base_sha, plan.files, f"retrain: {plan.summary}")
    ref = f"refs/heads/{plan.branch}"
    repo.update_ref(ref, sha, None)
    pushed = False
    try:
        with console.step(f"Pushing {plan.branch} and opening a pull request"):
            repo.push("origin", [f"{sha}:{ref}"], env=forge.git_env())
            pushed = True
            pull = forge.create_pull(config.forge.repo, title=title or f"retrain: {plan.summary}",
                                     body=_pull_body(plan.settings), head=plan.branch,
                                     base=plan.base_branch)
    except BaseException:
        _undo(repo, forge, plan.branch, sha, pushed)
        raise
    forge.add_labels(config.forge.repo, pull.number, ["retrain"])
    repo.run("branch", "--quiet", f"--set-upstream-to=origin/{plan.branch}", plan.branch,
             check=False)
    return forge.get_pull(config.forge.repo, pull.number)


def _undo(repo: GitRepo, forge: Forge, branch: str, sha: str, pushed: bool) -> None:
    """Remove the branch retrain created (only if it still points at retrain's commit)."""
    with contextlib.suppress(JxMlopsError):
        if pushed:
            repo.push("origin", [f"--force-with-lease=refs/heads/{branch}:{sha}",
                                 f":refs/heads/{branch}"], env=forge.git_env())
        repo.run("update-ref", "-d", f"refs/heads/{branch}", sha)


def _declared_params(config: ProjectConfig) -> tuple[str, ...]:
    from jx_mlops.evaluation.declared import params_at
    from jx_mlops.evaluation.snapshot import Snapshot

    repo = GitRepo.open(config.root)
    try:
        return params_at(config.models[0], Snapshot(repo, config.root, None, "workspace"))
    finally:
        repo.close()


def retrain(config: ProjectConfig, settings_text: Sequence[str], *, title: str | None = None,
            branch: str | None = None) -> PullRequest:
    """Open a pull request that changes params on top of the fetched default branch.

    Whatever is checked out (another PR's branch, uncommitted work) is neither used nor
    touched: the commit is built from the default branch without the work tree, and the
    user stays where they were. Every refusal happens before anything is written.
    """
    if not settings_text:
        raise UsageError("retrain needs at least one --set KEY=VALUE")
    # Bare keys go to the first params file (mlops.yaml's, else dvc.yaml's, as DVC does).
    default_file = (config.models[0].params or _declared_params(config) or
                    ("params.yaml",))[0]
    settings = [parse_setting(s, default_file) for s in settings_text]
    settings = [replace(s, file=check_params_file(s.file)) for s in settings]
    repo = GitRepo.open(config.root)
    try:
        forge = open_forge(config.forge)
        plan = _plan(config, repo, forge, settings, branch)
        return _publish(config, repo, forge, plan, title)
    finally:
        repo.close()
