"""The text init writes: a commented mlops.yaml, and the quickstarts' CI files (pure
rendering, plus reading the bundled templates)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from jx_mlops.project.models import FoundModel, model_name
from jx_mlops.project.policy import REL_TOLERANCE, MetricGuess

CI_DIRECTORIES = (".github/workflows", ".lighthouse/jenkins-x")
PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")


def _quote(text: str) -> str:
    """A YAML scalar that reads back as ``text``: plain when it is safe, else a JSON string
    (JSON strings are YAML strings)."""
    plain = PLAIN.match(text) and text.lower() not in ("true", "false", "null", "yes", "no")
    return text if plain else json.dumps(text, ensure_ascii=False)


def _policy_keys(guesses: Sequence[MetricGuess]) -> list[tuple[str, MetricGuess]]:
    """Bare metric names where every file holding the name gets the same direction (one
    key judges them all, and keeps judging a metric whose file is renamed or templated),
    ``FILE:name`` otherwise."""
    directions: dict[str, set[str | None]] = {}
    for g in guesses:
        directions.setdefault(g.key.split(":", 1)[1], set()).add(g.direction)
    keys: dict[str, MetricGuess] = {}
    for g in guesses:
        bare = g.key.split(":", 1)[1]
        keys.setdefault(bare if len(directions[bare]) == 1 else g.key, g)
    return list(keys.items())


def _policy_lines(guesses: Sequence[MetricGuess]) -> list[str]:
    directed = [(k, g) for k, g in _policy_keys(guesses) if g.direction]
    undirected = [k for k, g in _policy_keys(guesses) if not g.direction]
    lines = ["    # Which way is better, and how far the worse way is noise (rel_tolerance:",
             "    # a fraction of the base value; tolerance: an absolute amount). Add",
             "    # min/max for hard limits that fail whatever the base was."]
    if directed:
        lines.append("    policy:")
        lines += [f"      {_quote(key)}: {{direction: {g.direction}, rel_tolerance: "
                  f"{REL_TOLERANCE}}}  # name says {g.because}" for key, g in directed]
    else:
        lines.append("    # policy:")
        lines.append('    #   "METRIC": {direction: higher, rel_tolerance: 0.01}')
    if undirected:
        lines.append("    # Undirected (reported as changed, never failing); to judge one,")
        lines.append("    # add it under policy: with direction: higher or lower:")
        lines += [f"    #   {key}" for key in undirected]
    return lines


def _model_lines(model: FoundModel | None, project: str,
                 guesses: Sequence[MetricGuess]) -> list[str]:
    if model is None:
        lines = [f"  {model_name(project)}:",
                 "    # No model found in dvc.yaml: a metrics-only project. To",
                 "    # register versions, add artifact: PATH (a DVC-tracked model)."]
    else:
        lines = [f"  {model.name}:", f"    # From {model.source}.",
                 f"    artifact: {_quote(model.path)}"]
        if model.registry_name:
            lines += ["    # Its name in the registry (GTO tags), as DVC and GTO call it:",
                      f"    registry_name: {_quote(model.registry_name)}"]
        if model.description:
            lines.append(f"    description: {_quote(model.description)}")
    lines += ["    # metrics, params and plots: what dvc.yaml declares at each revision, as",
              "    # `dvc metrics/params/plots diff` read them. To pin files, list them:",
              "    # metrics: [eval/metrics.json]", "    # params: [params.yaml]"]
    return lines + _policy_lines(guesses)


def _forge_lines(kind: str, repo: str | None) -> list[str]:
    if repo is None:
        return ["# Where pull requests and promotion happen; report, versions, history,",
                "# lineage and insights need no forge. To add one: jx-mlops init --repo",
                "# OWNER/NAME --force (it publishes the repository there), or:", "# forge:",
                f"#   kind: {kind}", "#   repo: OWNER/NAME", ""]
    return ["# Where the repository, its pull requests and the environment repositories live.",
            "forge:", f"  kind: {kind}", f"  repo: {repo}", ""]


def _evaluation_lines(stage: str | None) -> list[str]:
    if stage is None:
        return ["", "# Trusted evaluation: name the stage that scores models (its metrics are "
                "then", "# measured by the base branch's version of it, docs/security.md):",
                "# evaluation:", "#   trusted: evaluate"]
    return ["", f"# Pull requests are scored by the base branch's `{stage}` stage (its code, "
            "params", "# and data), not by their own: docs/security.md.",
            "evaluation:", f"  trusted: {_quote(stage)}"]


def render_config(project: str, kind: str, repo: str | None, models: Sequence[FoundModel],
                  guesses: Sequence[MetricGuess], trusted_stage: str | None = None) -> str:
    """mlops.yaml for an adopted DVC project, with comments that say how to edit it."""
    lines = ["# jx-mlops configuration, written by `jx-mlops init` from dvc.yaml.",
             "# Edit freely: docs/adopting.md and docs/concepts.md explain every key.",
             "version: 1", f"project: {_quote(project)}", "", *_forge_lines(kind, repo),
             "models:"]
    listed: Sequence[FoundModel | None] = models or [None]
    for model in listed:
        lines += _model_lines(model, project, guesses)
    lines += _evaluation_lines(trusted_stage)
    lines += _environment_lines(repo)
    return "\n".join(lines) + "\n"


def _environment_lines(repo: str | None) -> list[str]:
    """Staging and production on the forge, as every quickstart has them; commented out
    without a forge."""
    if repo is None:
        return ["", "# Deployment environments in promotion order (docs/environments.md):",
                "# environments:", "#   - name: staging",
                "#     repo: OWNER/environment-staging"]
    owner = repo.split("/", 1)[0]
    return ["", "# Deployment environments in promotion order (docs/environments.md): every",
            "# merge is released into the first; production takes a reviewed pull request.",
            "environments:", "  - name: staging", f"    repo: {owner}/environment-staging",
            "    strategy: auto", "  - name: production",
            f"    repo: {owner}/environment-production", "    strategy: manual",
            "    requires: staging"]


def ci_files() -> dict[str, str]:
    """The CI files every quickstart ships (GitHub Actions, Jenkins X Lighthouse), by path,
    rendered as `create` renders them (they install jx-mlops as project/install.py says)."""
    from jx_mlops.project.install import install_values
    from jx_mlops.project.quickstarts import SHARED, TEMPLATE_SUFFIX, quickstarts_dir, substitute

    shared = quickstarts_dir() / SHARED / "template"
    values = install_values()
    files: dict[str, str] = {}
    for directory in CI_DIRECTORIES:
        for path in sorted((shared / directory).glob("*")):
            if not path.is_file():
                continue
            name = path.name.removesuffix(TEMPLATE_SUFFIX)
            text = path.read_text(encoding="utf-8")
            files[f"{directory}/{name}"] = substitute(text, values, f"{directory}/{name}") \
                if path.name.endswith(TEMPLATE_SUFFIX) else text
    return files
