"""`jx-mlops retrain`: a params change on a new branch, pushed, as a pull request.

Params are edited line by line so the comments and layout of params.yaml survive; the
result is parsed back and checked before anything is committed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from jx_mlops import console
from jx_mlops.compare.values import flatten
from jx_mlops.config import ProjectConfig
from jx_mlops.errors import GitError, UsageError
from jx_mlops.forge import open_forge
from jx_mlops.forge.base import PullRequest
from jx_mlops.git import GitRepo

_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[^\s#:][^:#]*?)\s*:(?P<rest>.*)$")


@dataclass(frozen=True)
class ParamSetting:
    """``file:dotted.key=value`` from the command line, value parsed as YAML."""

    file: str
    key: str
    value: Any
    text: str


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
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, (dict, list)):
        raise UsageError(f"--set {text!r}: only scalar values can be set")
    return ParamSetting(file, key, value, f"{key}={raw}")


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


def apply_settings(text: str, settings: Sequence[ParamSetting], where: str) -> str:
    """``text`` of a params file with every setting applied and verified."""
    current = flatten(yaml.safe_load(text) or {})
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
    check = flatten(yaml.safe_load(result) or {})
    for setting in settings:
        if check.get(setting.key) != setting.value:
            raise UsageError(f"{where}: setting {setting.key} did not round-trip; edit by hand")
    return result


def _branch_name(repo: GitRepo, settings: Sequence[ParamSetting]) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(
        f"{s.key.split('.')[-1]}-{s.value}" for s in settings)).strip("-.")[:50] or "params"
    name, n = f"retrain/{slug}", 2
    while repo.ref_sha(f"refs/heads/{name}") or repo.ref_sha(f"refs/remotes/origin/{name}"):
        name, n = f"retrain/{slug}-{n}", n + 1
    return name


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
    """Branch from HEAD, apply the params change, commit, push and open a pull request."""
    if not settings_text:
        raise UsageError("retrain needs at least one --set KEY=VALUE")
    # Bare keys go to the first params file (mlops.yaml's, else dvc.yaml's, as DVC does).
    default_file = (config.models[0].params or _declared_params(config) or
                    ("params.yaml",))[0]
    settings = [parse_setting(s, default_file) for s in settings_text]
    repo = GitRepo.open(config.root)
    forge = open_forge(config.forge)
    remote = forge.get_repo(config.forge.repo)
    try:
        dirty = repo.dirty_paths()
        if dirty:
            raise GitError(f"uncommitted changes in {', '.join(dirty[:3])}; commit or stash "
                           "them first")
        by_file: dict[str, list[ParamSetting]] = {}
        for setting in settings:
            by_file.setdefault(setting.file, []).append(setting)
        new_texts = {}
        for file, items in by_file.items():
            path = config.root / file
            if not path.is_file():
                raise UsageError(f"params file {file} not found in {config.root}")
            new_texts[file] = apply_settings(path.read_text(encoding="utf-8"), items, file)
        summary = ", ".join(s.text for s in settings)
        branch = branch or _branch_name(repo, settings)
        repo.checkout("HEAD", new_branch=branch)
        for file, text in new_texts.items():
            (config.root / file).write_text(text, encoding="utf-8")
        repo.add(by_file)
        repo.commit(f"retrain: {summary}")
        with console.step(f"Pushing {branch} and opening a pull request"):
            repo.push("origin", [f"{branch}:refs/heads/{branch}"], env=forge.git_env())
            body = ("Retrain with changed params:\n\n"
                    + "\n".join(f"- `{s.file}`: `{s.key}` = `{_scalar(s.value)}`"
                                for s in settings)
                    + "\n\nCI trains this branch (`jx-mlops ci pr`) and posts the evaluation.\n")
            pull = forge.create_pull(config.forge.repo, title=title or f"retrain: {summary}",
                                     body=body, head=branch, base=remote.default_branch)
            forge.add_labels(config.forge.repo, pull.number, ["retrain"])
        return forge.get_pull(config.forge.repo, pull.number)
    finally:
        repo.close()
