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
            "    strategy: auto", *VERIFY_BLOCK.splitlines(), "  - name: production",
            f"    repo: {owner}/environment-production", "    strategy: manual",
            "    requires: staging"]


# The quickstarts' checks (their mlops.yaml.tmpl; tests/unit/project checks they agree),
# on the metrics their model service exports; the drift check needs a predictions file.
VERIFY_BLOCK = """\
    # Production checks after each promotion (docs/operations.md): the scheduled
    # `jx-mlops verify` runs them against Prometheus. They read the metrics the
    # quickstarts' model service exports, labelled model and version (docs/operations.md
    # lists them): adapt the queries to your server's. No traffic in the last 5 minutes is
    # "inconclusive", never a rollback.
    verify:
      # Your Prometheus: JX_MLOPS_PROMETHEUS_URL (the CI's variable or secret; the
      # scheduled workflows pass it) or, overridden by it, this key:
      # prometheus: http://prometheus.monitoring:9090
      # With neither, verify shows the checks "not run" and exits 0; a URL that does not
      # answer is "inconclusive" (exit 4).
      checks:
        - name: availability       # every server that served the version is up
          query: >-
            min(up and on(instance) max_over_time(
            jx_mlops_requests_total{model="${model}",version="${version}"}[10m]))
          min: 1
        - name: error-ratio        # requests the model failed (refused input is not one)
          query: >-
            sum(rate(jx_mlops_request_errors_total{model="${model}",version="${version}"}[5m]))
            / sum(rate(jx_mlops_requests_total{model="${model}",version="${version}"}[5m]))
          max: 0.01
        - name: latency-p95        # seconds
          query: >-
            histogram_quantile(0.95, sum by (le) (rate(
            jx_mlops_request_seconds_bucket{model="${model}",version="${version}"}[5m])))
          max: 0.5
        # Score drift against the version's evaluation-time scores needs the model's
        # predictions file (models.NAME.predictions, a CSV with y_score): with it, the
        # quickstarts' score-drift check (docs/operations.md) can be added here.
      within: 30m                  # the window after a promotion where a failure acts
      on_failure: rollback         # hold the version, roll back to the last verified one
      on_inconclusive: report      # inconclusive_limit (3) runs in a row: report | hold
"""


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
