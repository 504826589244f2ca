"""A synthetic project for registry and promotion tests: real git, real local forge, no
`dvc repro`.

The project carries a hand-written dvc.lock (the model outputs' md5s), DVC-tracked data
(a .dvc file), metrics files and a .dvc/config naming a local remote: everything the
registry reads. A new model version is a commit that changes an md5 and the metrics.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jx_mlops.environments.repo import ensure_environment_repo
from jx_mlops.forge.local.forge import LocalForge
from jx_mlops.signing import generate_key_pair, save_private_key
from kit.git import git

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"

ENVIRONMENTS = """\
  - name: staging
    repo: local/environment-staging
    strategy: auto
  - name: production
    repo: local/environment-production
    strategy: manual
    requires: staging
"""


def kserve_schema() -> dict[str, Any]:
    """The KServe InferenceService schema copied into tests/schemas."""
    path = SCHEMAS / "serving.kserve.io" / "inferenceservice_v1beta1.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


def text_md5(text: str) -> str:
    """The md5 DVC would record for a file holding ``text``."""
    return hashlib.md5(text.encode()).hexdigest()


@dataclass
class Lab:
    """A project directory published on the local forge, with its environments."""

    path: Path
    home: Path
    name: str
    models: tuple[str, ...]
    counter: dict[str, int] = field(default_factory=dict)

    @property
    def forge(self) -> LocalForge:
        return LocalForge(self.home / "forge")

    def env_git(self, env: str, *args: str) -> str:
        bare = self.home / "forge" / "repos" / "local" / f"environment-{env}.git"
        return git(bare, *args)

    def env_file(self, env: str, path: str) -> str:
        return self.env_git(env, "show", f"main:{path}")

    def forge_git_tags(self) -> list[str]:
        """Tags of the project's repository on the forge."""
        bare = self.home / "forge" / "repos" / "local" / f"{self.name}.git"
        return git(bare, "tag", "-l").splitlines()

    def record(self, env: str, model: str) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(self.env_file(env, f"models/{model}.yaml"))
        return data

    def new_version(self, metrics: Mapping[str, Mapping[str, Any]] | None = None,
                    models: Sequence[str] | None = None) -> str:
        """Commit new model bytes (new md5s) and metrics for ``models``; push; return sha."""
        for model in models or self.models:
            self.counter[model] = self.counter.get(model, 0) + 1
        write_project_files(self.path, self.models, self.counter, metrics or {})
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", f"train {self.counter}")
        git(self.path, "push", "-q", "origin", "main")
        return git(self.path, "rev-parse", "HEAD")


def write_project_files(root: Path, models: Sequence[str], counter: Mapping[str, int],
                        metrics: Mapping[str, Mapping[str, Any]]) -> None:
    stages = {}
    data_md5 = text_md5("raw data")
    for model in models:
        n = counter.get(model, 0)
        values = {"accuracy": round(0.80 + 0.01 * n, 4), "loss": round(0.5 - 0.01 * n, 4),
                  "fairness": {"demographic_parity_difference": 0.03}}
        values.update(metrics.get(model, {}))
        (root / f"metrics-{model}.json").write_text(json.dumps(values, indent=1))
        # The model bytes themselves, in the local DVC cache: a release publishes a named
        # copy of them to the remote for serving runtimes.
        blob = root / ".dvc" / "cache" / "files" / "md5" / text_md5(f"{model} {n}")[:2] / \
            text_md5(f"{model} {n}")[2:]
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_text(f"{model} {n}")
        stages[f"train-{model}"] = {
            "cmd": f"python train.py {model}",
            "deps": [{"path": "data/raw.csv", "md5": data_md5, "size": 8},
                     {"path": "train.py", "md5": text_md5("code"), "size": 4}],
            "params": {"params.yaml": {"train.seed": n}},
            "outs": [{"path": f"models/{model}.pkl", "md5": text_md5(f"{model} {n}"),
                      "size": 1000 + n}],
        }
    (root / "dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))
    (root / "params.yaml").write_text(yaml.safe_dump({"train": {"seed": max(counter.values(),
                                                                            default=0)}}))


def mlops_yaml(name: str, models: Sequence[str], environments: str) -> str:
    lines = ["version: 1", f"project: {name}", "forge:", f"  repo: local/{name}", "models:"]
    for model in models:
        lines += [f"  {model}:", f"    artifact: models/{model}.pkl",
                  f"    metrics: [metrics-{model}.json]",
                  "    intended_use: Scoring fraud risk of card payments; not for credit "
                  "decisions.",
                  "    policy:", "      accuracy: {direction: higher, tolerance: 0.005}",
                  "      loss: {direction: lower}"]
    return "\n".join(lines) + "\nenvironments:\n" + environments


def make_lab(base: Path, home: Path, *, name: str = "fraud",
             models: Sequence[str] = ("fraud",), environments: str = ENVIRONMENTS,
             signed: bool = True) -> Lab:
    """Create and publish the project (no model version registered yet); ``signed``: with
    a signing key pair, as ``create`` makes on the local forge."""
    root = base / name
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "mlops.yaml").write_text(mlops_yaml(name, models, environments))
    if signed:
        private, public = generate_key_pair()
        save_private_key(home, private)
        (root / "signing.pub").write_bytes(public)
        text = (root / "mlops.yaml").read_text()  # before environments: tests append to it
        (root / "mlops.yaml").write_text(text.replace(
            "\nenvironments:\n", "\nsigning:\n  public_key: signing.pub\nenvironments:\n", 1))
    (root / ".dvc").mkdir()
    (root / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    storage = home / "storage" / "local" / name
    (root / ".dvc" / "config").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {storage}\n")
    (root / "data").mkdir()
    (root / "data" / "raw.csv.dvc").write_text(yaml.safe_dump(
        {"outs": [{"md5": text_md5("raw data"), "size": 8, "path": "raw.csv"}]}))
    (root / "train.py").write_text("pass\n")
    write_project_files(root, models, {}, {})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "create")
    forge = LocalForge(home / "forge")
    remote = forge.create_repo(f"local/{name}")
    git(root, "remote", "add", "origin", remote.clone_url)
    git(root, "push", "-q", "origin", "main")
    for env in yaml.safe_load(environments):
        ensure_environment_repo(forge, env["repo"], env["name"])
    return Lab(root, home, name, tuple(models))


def lab_commit_env_file(lab: Lab, env: str, path: str, text: str) -> None:
    """Commit ``path`` straight to the environment repository's main (a hand edit)."""
    work = lab.path.parent / f"edit-{env}"
    if not work.exists():
        bare = lab.home / "forge" / "repos" / "local" / f"environment-{env}.git"
        git(lab.path.parent, "clone", "-q", bare.as_uri(), str(work))
    git(work, "pull", "-q")
    target = work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", f"hand edit of {path}")
    git(work, "push", "-q", "origin", "HEAD:main")
