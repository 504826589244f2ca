"""mlops.yaml: the project's typed, validated configuration.

Every error names the file, the dotted key and what was expected, e.g.
``mlops.yaml: models.churn.policy.accuracy.direction: expected 'higher' or 'lower', got 'up'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import yaml

from jx_mlops.compare.policy import Direction, MetricPolicy
from jx_mlops.compare.slices.policy import SlicePolicy
from jx_mlops.compute.spec import ComputeConfig
from jx_mlops.config.ci import CiConfig, read_ci
from jx_mlops.config.compute import read_compute
from jx_mlops.config.evaluation import EvaluationConfig, read_evaluation
from jx_mlops.config.node import ConfigNode
from jx_mlops.config.rollout import RolloutConfig, read_rollout
from jx_mlops.config.signing import SigningConfig, read_signature_gate, read_signing
from jx_mlops.config.slices import read_slices
from jx_mlops.config.verify import VerifyConfig, read_verify
from jx_mlops.config.windows import Window, read_windows
from jx_mlops.errors import ConfigError
from jx_mlops.forge.base import REPO_NAME, ForgeConfig
from jx_mlops.forge.kinds import DEFAULT_FORGE, FORGES
from jx_mlops.fsutil import read_text_bounded
from jx_mlops.oci import OciTarget, parse_target
from jx_mlops.yamlio import safe_load

MAX_CONFIG_BYTES = 1024 * 1024

CONFIG_FILE = "mlops.yaml"
# A DNS-1123 label: model names become Kubernetes resource names (the KServe
# InferenceService) and GTO artifact names, so they must suit both.
MODEL_NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

Strategy = Literal["auto", "manual", "never"]
Layout = Literal["kserve", "jenkins-x"]


@dataclass(frozen=True)
class ModelConfig:
    """One model of the project: its DVC artifact, metrics files and metric policies.

    Empty ``metrics`` / ``params`` / ``plots`` mean "what dvc.yaml declares at the revision
    being read", as `dvc metrics/params/plots diff` do; an empty ``artifact`` is a
    metrics-only project (reports work, registering a version does not).
    """

    name: str
    artifact: str = ""
    metrics: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    description: str = ""
    policy: Mapping[str, MetricPolicy] = field(default_factory=dict)
    # Per-sample predictions written by the evaluate stage (CSV with y_true and
    # y_pred and/or y_score): what significance tests of metric changes are computed from.
    predictions: str | None = None
    # What the model is for and not for: the model card's "Intended use" section.
    intended_use: str = ""
    # Its name in the registry (GTO's full name, ``DIR:NAME``) when that is not the one
    # jx-mlops derives (``NAME``, or ``PROJECT_DIR:NAME`` in a monorepo): an artifact of
    # ``nlp/dvc.yaml``, an artifacts.yaml entry whose name is not a DNS label.
    registry_name: str = ""
    # Where to look for a worse head: slices of the evaluation rows (config.slices).
    slices: SlicePolicy | None = None

    def policy_for(self, path: str, key: str) -> MetricPolicy:
        """The policy of metric ``key`` of file ``path``; ``path:key`` wins over ``key``."""
        return self.policy.get(f"{path}:{key}") or self.policy.get(key) or MetricPolicy()


@dataclass(frozen=True)
class MetricGate:
    """A floor and/or ceiling one metric must respect to enter an environment.

    ``metric`` is ``key`` (any metrics file) or ``FILE:key``, as in ``policy``.
    """

    metric: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class FairnessLimit:
    """A fairness metric (a gap between groups) whose absolute value must stay <= ``limit``."""

    metric: str
    limit: float


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployment environment, in promotion order, with the gates guarding it."""

    name: str
    repo: str
    strategy: Strategy = "auto"
    # A version must run in ``requires`` (for ``soak`` seconds) before it may come here.
    requires: str | None = None
    soak: int = 0
    # Manual environments: approvals (/approve comments by writers other than the PR
    # author) a promotion PR needs; ``approvers`` restricts who counts, when given.
    approvals: int = 0
    approvers: tuple[str, ...] = ()
    metric_gates: tuple[MetricGate, ...] = ()
    fairness: tuple[FairnessLimit, ...] = ()
    # What the GitOps agent deploys: a KServe InferenceService per model, or a release
    # in a Jenkins X helmfile (helmfiles/NAMESPACE/helmfile.yaml).
    layout: Layout = "kserve"
    namespace: str = ""
    model_format: str | None = None
    chart_repository: str = "dev"
    # Production checks after each promotion (see config.verify); None: not verified.
    verify: VerifyConfig | None = None
    # gates.signature: required/optional; None: required after the first environment.
    signature: str | None = None
    # When promotions are accepted (see config.windows); empty: always.
    windows: tuple[Window, ...] = ()
    # Canary steps (see config.rollout); None: a promotion takes all traffic at once.
    rollout: RolloutConfig | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """The whole of mlops.yaml."""

    path: Path
    name: str
    forge: ForgeConfig
    models: tuple[ModelConfig, ...]
    environments: tuple[EnvironmentConfig, ...]
    # registry.gto_stages: write GTO stage tags for what lands in environment repositories
    gto_stages: bool = True
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    signing: SigningConfig | None = None
    ci: CiConfig = field(default_factory=CiConfig)
    # registry.oci: where register and ci release push each version (None: nowhere)
    oci: OciTarget | None = None
    compute: ComputeConfig = field(default_factory=ComputeConfig)

    @property
    def root(self) -> Path:
        """The project directory (where mlops.yaml lives)."""
        return self.path.parent

    def model(self, name: str) -> ModelConfig:
        """The model called ``name``, or a ConfigError listing the known ones."""
        for model in self.models:
            if model.name == name:
                return model
        known = ", ".join(m.name for m in self.models)
        raise ConfigError(f"{self.path.name}: no model named {name!r} (models: {known})")

    def environment(self, name: str) -> EnvironmentConfig:
        """The environment called ``name``, or a ConfigError listing the known ones."""
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments) or "none"
        raise ConfigError(
            f"{self.path.name}: no environment named {name!r} (environments: {known})")


def _read_policy(node: ConfigNode) -> MetricPolicy:
    node.mapping(("direction", "tolerance", "rel_tolerance", "min", "max", "significance"))
    policy = MetricPolicy(
        direction=cast("Direction | None", node.child("direction").optional(
            lambda n: n.choice("higher", "lower"))),
        tolerance=node.child("tolerance").optional(ConfigNode.non_negative, 0.0),
        rel_tolerance=node.child("rel_tolerance").optional(ConfigNode.non_negative, 0.0),
        min=node.child("min").optional_number(),
        max=node.child("max").optional_number(),
        significance=cast("Literal['required', 'ignore']", node.child("significance").optional(
            lambda n: n.choice("required", "ignore"), "required")),
    )
    if policy.min is not None and policy.max is not None and policy.min > policy.max:
        raise node.child("min").fail(f"a value <= max ({policy.max})")
    return policy


def _read_model(name: str, node: ConfigNode) -> ModelConfig:
    if not MODEL_NAME.match(name):
        raise node.error("model name must be lowercase letters, digits and dashes, at most "
                         f"63 (it names Kubernetes resources), got {name!r}")
    if node.value is None:  # a bare name: every part defaults (to what dvc.yaml says)
        node = ConfigNode({}, node.where, node.file)
    node.mapping(("artifact", "metrics", "params", "description", "policy", "predictions",
                  "intended_use", "registry_name", "slices"))
    policy_node = node.child("policy")
    policies: dict[str, MetricPolicy] = {}
    if policy_node.value is not None:
        policy_node.mapping()
        policies = {key: _read_policy(child) for key, child in policy_node.items()}
    return ModelConfig(
        name=name,
        artifact=node.child("artifact").optional(
            lambda n: n.string(what="a path to the DVC-tracked model"), ""),
        metrics=node.child("metrics").optional(ConfigNode.paths, ()),
        params=node.child("params").optional(ConfigNode.paths, ()),
        description=node.child("description").optional(ConfigNode.string, ""),
        policy=policies,
        predictions=node.child("predictions").optional(
            lambda n: n.string(what="a path to a predictions CSV")),
        intended_use=node.child("intended_use").optional(ConfigNode.string, ""),
        registry_name=node.child("registry_name").optional(_registry_name, ""),
        slices=_read_model_slices(node),
    )


_GTO_NAME = re.compile(r"^([a-zA-Z0-9\-_./]+:)?[a-zA-Z0-9]([a-zA-Z0-9\-/_]*[a-zA-Z0-9])?$")


def _registry_name(node: ConfigNode) -> str:
    """GTO's artifact name grammar: ``[DIR:]NAME``."""
    return node.string(_GTO_NAME, "a GTO artifact name ([DIR:]NAME)")


def _read_model_slices(node: ConfigNode) -> SlicePolicy | None:
    """``slices`` search the rows of the predictions file: it needs one."""
    slices = read_slices(node.child("slices"))
    if slices is not None and node.child("predictions").value is None:
        raise node.child("slices").error("needs predictions (the per-row file whose rows "
                                         "are sliced)")
    return slices


_ENV_KEYS = ("name", "repo", "strategy", "requires", "soak", "approvals", "approvers",
             "gates", "layout", "namespace", "model_format", "chart_repository", "verify",
             "windows", "rollout")
_K8S_NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\[\]-]*$")


def _read_metric_gate(metric: str, node: ConfigNode) -> MetricGate:
    node.mapping(("min", "max"))
    gate = MetricGate(metric, min=node.child("min").optional_number(),
                      max=node.child("max").optional_number())
    if gate.min is None and gate.max is None:
        raise node.fail("a mapping with min and/or max")
    if gate.min is not None and gate.max is not None and gate.min > gate.max:
        raise node.child("min").fail(f"a value <= max ({gate.max})")
    return gate


def _read_fairness(metric: str, node: ConfigNode) -> FairnessLimit:
    if isinstance(node.value, dict):
        node.mapping(("max_abs",), required=("max_abs",))
        return FairnessLimit(metric, node.child("max_abs").non_negative())
    return FairnessLimit(metric, node.non_negative())


def _read_gates(node: ConfigNode) -> tuple[tuple[MetricGate, ...], tuple[FairnessLimit, ...]]:
    if node.value is None:
        return (), ()
    node.mapping(("metrics", "fairness", "signature"))
    metrics, fairness = node.child("metrics"), node.child("fairness")
    gates: list[MetricGate] = []
    limits: list[FairnessLimit] = []
    if metrics.value is not None:
        metrics.mapping()
        gates = [_read_metric_gate(key, child) for key, child in metrics.items()]
    if fairness.value is not None:
        fairness.mapping()
        limits = [_read_fairness(key, child) for key, child in fairness.items()]
    return tuple(gates), tuple(limits)


def _read_environment(node: ConfigNode) -> EnvironmentConfig:
    node.mapping(_ENV_KEYS, required=("name", "repo"))
    name = node.child("name").string(ENV_NAME, "a lowercase name such as 'staging'")
    strategy = cast(Strategy, node.child("strategy").optional(
        lambda n: n.choice("auto", "manual", "never"), "auto"))
    approvals_node = node.child("approvals")
    approvals = approvals_node.optional(ConfigNode.integer, 1 if strategy == "manual" else 0)
    if approvals and strategy != "manual":
        raise approvals_node.fail("0 (approvals only apply to strategy: manual)")
    layout = cast(Layout, node.child("layout").optional(
        lambda n: n.choice("kserve", "jenkins-x"), "kserve"))
    metric_gates, fairness = _read_gates(node.child("gates"))
    return EnvironmentConfig(
        name=name,
        repo=node.child("repo").string(REPO_NAME, "a repository as OWNER/NAME"),
        strategy=strategy,
        requires=node.child("requires").optional(
            lambda n: n.string(ENV_NAME, "the name of an earlier environment")),
        soak=node.child("soak").optional(ConfigNode.duration, 0),
        approvals=approvals,
        approvers=node.child("approvers").optional(
            lambda n: n.strings(_LOGIN, "a non-empty list of forge logins", "a forge login",
                                non_empty=True), ()),
        metric_gates=metric_gates,
        fairness=fairness,
        layout=layout,
        namespace=node.child("namespace").optional(
            lambda n: n.string(_K8S_NAME, "a Kubernetes namespace name"),
            f"jx-{name}" if layout == "jenkins-x" else name),
        model_format=node.child("model_format").optional(
            lambda n: n.string(_K8S_NAME, "a KServe model format such as sklearn")),
        chart_repository=node.child("chart_repository").optional(
            lambda n: n.string(_K8S_NAME, "a helm repository name such as dev"), "dev"),
        verify=read_verify(node.child("verify")),
        signature=read_signature_gate(node.child("gates").child("signature")),
        windows=read_windows(node.child("windows")),
        rollout=read_rollout(node.child("rollout")),
    )


def _check_requires(environments: tuple[EnvironmentConfig, ...], file: str) -> None:
    """``requires`` must name an environment that comes earlier in promotion order."""
    for index, env in enumerate(environments):
        earlier = [e.name for e in environments[:index]]
        if env.requires is not None and env.requires not in earlier:
            expected = ", ".join(repr(e) for e in earlier) or "nothing (it is the first)"
            raise ConfigError(f"{file}: environments[{index}].requires: expected an earlier "
                              f"environment ({expected}), got {env.requires!r}")
        if env.soak and env.requires is None:
            raise ConfigError(f"{file}: environments[{index}].soak: needs requires (the "
                              "environment a version soaks in first)")


def _read_forge(node: ConfigNode) -> ForgeConfig:
    node.mapping(("kind", "repo", "url"), required=("repo",))
    return ForgeConfig(
        kind=node.child("kind").optional(lambda n: n.choice(*FORGES), DEFAULT_FORGE),
        repo=node.child("repo").string(REPO_NAME, "a repository as OWNER/NAME"),
        url=node.child("url").optional(ConfigNode.string),
    )


def parse_config(text: str, path: Path) -> ProjectConfig:
    """Parse and validate mlops.yaml ``text``; ``path`` is used for messages and ``root``."""
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path.name}: invalid YAML{at}: {problem}") from None
    root = ConfigNode(data, "", path.name)
    root.mapping(("version", "project", "forge", "models", "environments", "registry",
                  "evaluation", "signing", "ci", "compute"), required=("models",))
    version = root.child("version")
    if version.value not in (None, 1):
        raise version.fail("1 (the only mlops.yaml version)")
    forge_node = root.child("forge")
    forge = ForgeConfig() if forge_node.value is None else _read_forge(forge_node)
    models_node = root.child("models")
    models_node.mapping()
    if not models_node.value:
        raise models_node.fail("at least one model")
    envs_node = root.child("environments")
    environments = tuple(_read_environment(item) for item in envs_node.optional(
        lambda n: n.sequence("a list of environments in promotion order"), []))
    names = [env.name for env in environments]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise envs_node.error(f"duplicate name {duplicates[0]!r}")
    _check_requires(environments, path.name)
    return ProjectConfig(
        path=path,
        name=root.child("project").optional(
            ConfigNode.string, forge.repo.split("/")[1] if forge.repo else path.parent.name),
        forge=forge,
        models=tuple(_read_model(name, node) for name, node in models_node.items()),
        environments=environments,
        gto_stages=_read_registry(root.child("registry")),
        oci=_read_oci(root.child("registry")),
        evaluation=read_evaluation(root.child("evaluation")),
        signing=read_signing(root.child("signing")),
        ci=read_ci(root.child("ci")),
        compute=read_compute(root.child("compute")),
    )


def _read_registry(node: ConfigNode) -> bool:
    """``registry: {gto_stages: BOOL}``; whether GTO stage tags are written (default yes)."""
    if node.value is None:
        return True
    node.mapping(("gto_stages", "oci"))
    return bool(node.child("gto_stages").optional(ConfigNode.flag, True))


def _read_oci(node: ConfigNode) -> OciTarget | None:
    """``registry.oci: HOST[:PORT]/REPOSITORY``: the OCI registry versions are pushed to."""
    if node.value is None:
        return None
    target = node.child("oci")
    text = target.optional(ConfigNode.string, "")
    if not text:
        return None
    try:
        return parse_target(text)
    except ValueError as exc:
        raise target.fail(str(exc)) from None


def load_config(root: Path) -> ProjectConfig:
    """Read ``root/mlops.yaml``; a missing file is a ConfigError that says how to get one."""
    path = (root / CONFIG_FILE).resolve()
    try:
        text = read_text_bounded(root / CONFIG_FILE, root=root, max_bytes=MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError(
            f"{CONFIG_FILE} not found in {root.resolve()}",
            hint="in an existing DVC project run `jx-mlops init`; for a new one, "
                 "`jx-mlops create`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, path)


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding mlops.yaml (else ``start``)."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    return start
