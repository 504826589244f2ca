"""DVC projects as real users lay them out (foreach, matrix, ``${}``, vars, key-filtered
params, a dvc.yaml in a subdirectory, a DVC root in a git subfolder, renamed and CSV metrics,
every plot template), read by `jx-mlops report` as DVC reads them.

The repositories are built with real DVC once per module (tests/kit/dvcprojects.py), and
DVC's and GTO's own answers are the oracles: `dvc metrics diff --json --all` and `dvc params
diff --json --all` for every row, `dvc plots diff --json --split` for every plot id and
every point, `dvc status --json` for staleness, `gto show --json` for registry names.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kit.cli import Result
from kit.dvcprojects import (
    build_matrix,
    build_monorepo,
    build_plain,
    build_templated,
    copy_repo,
    dvc_json,
    oracle_diffs,
    plot_fields,
    plot_records,
)
from kit.git import git
from kit.gto import gto_json
from kit.hermetic import apply_env, hermetic_env

from jx_mlops.cli.main import main
from jx_mlops.evaluation.dvcfiles import read_pipeline
from jx_mlops.git.repo import GitRepo

pytestmark = pytest.mark.slow

BUILDERS = {"templated": build_templated, "matrix": build_matrix,
            "monorepo": build_monorepo, "plain": build_plain}
CLI = Callable[..., Result]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The four repositories, built once (never changed by a test), and adopted copies:
    ``NAME+`` has had `jx-mlops init --no-ci` run in it (``monorepo+`` in both roots)."""
    base = tmp_path_factory.mktemp("dvc-projects")
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, hermetic_env(base))
        repos = {name: base / name for name in BUILDERS}
        for name, build in BUILDERS.items():
            build(repos[name])
        for name in ("templated", "matrix", "monorepo"):
            adopted = copy_repo(repos[name], base / f"{name}+")
            assert main(["-q", "-C", str(adopted), "init", "--no-ci"]) == 0
            repos[f"{name}+"] = adopted
        assert main(["-q", "-C", str(repos["monorepo+"] / "experiments"), "init",
                     "--no-ci"]) == 0
        yield repos


@pytest.fixture(scope="module")
def oracle(built: dict[str, Path]) -> Callable[..., dict[str, Any]]:
    """DVC's three diffs of a pair in a DVC root, each asked once per module."""
    asked: dict[tuple[Path, str, str], dict[str, Any]] = {}

    def diffs(root: Path, a: str, b: str) -> dict[str, Any]:
        if (root, a, b) not in asked:
            asked[(root, a, b)] = oracle_diffs(root, a, b)
        return asked[(root, a, b)]

    return diffs


def report(cli: CLI, root: Path, base: str, head: str | None) -> dict[str, Any]:
    """The JSON report of ``base`` against ``head`` (None: the work tree)."""
    result = cli("-C", root, "report", "--base", base, *(("--head", head) if head else ()),
                 "--format", "json", "--trend", "0")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def _plain(value: Any) -> Any:
    """A value as `dvc params diff` prints it (lists as their str)."""
    return str(value) if isinstance(value, list) else value


def metric_rows(data: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    """The report's metric rows as DVC's (a metric matched across a renamed file is DVC's
    two rows: the old file's value gone, the new file's new)."""
    rows: dict[tuple[str, str], tuple[Any, Any]] = {}
    for m in data["metrics"]:
        if m["base_path"]:
            rows[(m["base_path"], m["name"])] = (m["base"], None)
            rows[(m["path"], m["name"])] = (None, m["head"])
        else:
            rows[(m["path"], m["name"])] = (m["base"], m["head"])
    return rows


def param_rows(data: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    return {(p["path"], p["name"]): (_plain(p["base"]), _plain(p["head"]))
            for p in data["params"]}


def plot_ids(data: dict[str, Any]) -> set[str]:
    """Every plot the report charts or names in a note."""
    ids = {c["plot"] for c in data["plots"]}
    return ids | {n.split(" (")[0].split(": ")[0] for n in data["notes"]}


def assert_points(data: dict[str, Any], dvc_plots: dict[str, Any], revs: dict[str, str]) -> None:
    """Every point of every drawn plot is DVC's, for every revision (``revs``: side label
    -> DVC's rev name)."""
    for chart in data["plots"]:
        entries = dvc_plots[chart["plot"]]
        x_field, y_field = plot_fields(entries)
        records = plot_records(entries)
        if chart["kind"] == "bar":
            theirs = Counter((r["rev"], str(r[y_field]), float(r[x_field])) for r in records)
            ours = Counter((revs[s["label"].split(" ")[1]], category, value)
                           for s in chart["series"]
                           for category, value in zip(chart["categories"], s["y"],
                                                      strict=True))
        else:
            theirs = Counter((r["rev"], float(r[x_field]), float(r[y_field])) for r in records)
            ours = Counter((revs[s["label"].split(" ")[1]], x, y) for s in chart["series"]
                           for x, y in zip(s["x"], s["y"], strict=True))
        assert ours == theirs, chart["plot"]


# -- foreach, ${}, section params --------------------------------------------------------


def test_foreach_and_templated_paths_are_read_as_dvc_reads_them(built, oracle, cli) -> None:
    root = built["templated+"]
    data = report(cli, root, "r1", "r2")
    dvc = oracle(root, "r1", "r2")
    assert metric_rows(data) == dvc["metrics"]
    assert param_rows(data) == dvc["params"]
    assert plot_ids(data) >= set(dvc["plots"])
    assert {c["plot"] for c in data["plots"]} == {"plots/unet.json", "plots/fpn.json",
                                                  "loss_curves"}
    assert_points(data, dvc["plots"], {"r1": "r1", "r2": "r2"})
    # The fold that got worse fails the verdict; nothing was left unread.
    assert data["verdict"] == "fail"
    assert "validation_loss regressed 0.21 → 0.31" in data["summary"]
    coverage = data["models"][0]["coverage"]
    assert coverage["head"] == {"declared": 5, "read": 5, "unread": []}


def test_a_params_section_edited_without_repro_is_stale_as_dvc_status_says(built, cli
                                                                         ) -> None:
    root = built["templated+"]
    data = report(cli, root, "r2", "r3")
    assert data["verdict"] == "fail"
    problems = data["models"][0]["head_problems"]
    ours = {p.split(" ")[1] for p in problems if " is stale: " in p}
    status = dvc_json(built["templated"], "status")  # its work tree is r3
    theirs = {stage for stage, entries in status.items() for entry in entries
              if isinstance(entry, dict) and any(isinstance(v, dict) for v in
                                                 entry.get("changed deps", {}).values())}
    assert ours == theirs == {"train@unet", "train@fpn"}
    assert any("params.yaml has train.epochs = 20 but dvc.lock recorded 18" in p
               for p in problems)


def test_init_writes_resolved_paths_registry_names_and_directions(built) -> None:
    text = (built["templated+"] / "mlops.yaml").read_text()
    assert "${" not in text
    assert "artifact: models/unet.pt" in text
    for line in ("validation_loss: {direction: lower", "jaccard: {direction: higher",
                 "best.dice: {direction: higher", "acc: {direction: higher"):
        assert line in text
    matrix = (built["matrix+"] / "mlops.yaml").read_text()
    for item in ("lr-1", "lr-2", "rf-1", "rf-2"):  # matrix outputs named per item
        assert f"  sweep-{item}:\n" in matrix and f"artifact: runs/exp1/{item}/best.pt" in matrix
    assert "eval_accuracy: {direction: higher" in matrix
    mono = (built["monorepo+"] / "mlops.yaml").read_text()
    assert '  classifier:\n    # From artifacts of nlp/dvc.yaml.\n    artifact: nlp/out/model.bin' \
        in mono and 'registry_name: "nlp:classifier"' in mono
    assert "  legacy-model:\n    # From artifacts of artifacts.yaml." in mono
    nested = (built["monorepo+"] / "experiments" / "mlops.yaml").read_text()
    assert "  exp-model:" in nested and "registry_name" not in nested  # experiments:exp-model


# -- matrix, vars, key filters, YAML 1.2 numbers ------------------------------------------


def test_matrix_vars_and_filtered_params_are_dvcs_rows(built, oracle, cli) -> None:
    root = built["matrix+"]
    data = report(cli, root, "r1", "r2")
    dvc = oracle(root, "r1", "r2")
    assert metric_rows(data) == dvc["metrics"]
    assert param_rows(data) == dvc["params"]
    assert ("params.yaml", "train.lr") in dvc["params"]  # 1e-3 is the float 0.001
    assert param_rows(data)[("params.yaml", "train.lr")] == (0.001, 0.0005)
    assert param_rows(data)[("config/project.yaml", "project")] == ("runs/exp1", "runs/exp1")
    assert_points(data, dvc["plots"], {"r1": "r1", "r2": "r2"})
    assert [c["kind"] for c in data["plots"]] == ["scatter"]
    assert "eval_accuracy regressed 1 → 0.75" in data["summary"]
    assert not any("stale" in p for m in data["models"] for p in m["head_problems"])
    assert dvc_json(built["matrix"], "status") == {}  # DVC agrees: up to date


def test_key_filtered_and_whole_file_params_edited_without_repro_are_stale_as_dvc_says(
        built, cli, tmp_path) -> None:
    root = copy_repo(built["matrix+"], tmp_path / "matrix")
    (root / "sweep.yaml").write_text("lr: {depth: 6, C: 1.0}\nrf: {depth: 5, trees: 300}\n")
    (root / "config" / "hp.json").write_text('{"hp": {"dropout": 0.3}}')
    git(root, "commit", "-qam", "params edited, no dvc repro")
    data = report(cli, root, "r2", "HEAD")
    problems = {p for m in data["models"] for p in m["head_problems"] if " is stale: " in p}
    ours = {(p.split(" ")[1], p.split(" ")[4]) for p in problems}
    theirs = {(stage, path) for stage, entries in dvc_json(root, "status").items()
              for entry in entries if isinstance(entry, dict)
              for path, how in entry.get("changed deps", {}).items() if isinstance(how, dict)}
    # lr.depth (a key filter) and config/hp.json (a whole file); rf.trees is not tracked.
    assert ours == theirs == {("sweep@lr-1", "sweep.yaml"), ("sweep@lr-2", "sweep.yaml"),
                              *((f"sweep@{m}", "config/hp.json")
                                for m in ("lr-1", "lr-2", "rf-1", "rf-2"))}
    assert "stage sweep@lr-1 is stale: sweep.yaml has lr.depth = 6 but dvc.lock recorded 4" \
        in data["summary"]
    assert data["verdict"] == "fail" and "sweep-lr-1: stage" not in data["summary"]  # once


# -- a dvc.yaml in a subdirectory, a DVC root in a git subfolder, GTO ----------------------


def test_subdirectory_dvc_yaml_and_nested_root_are_read(built, oracle, cli) -> None:
    root = built["monorepo+"]
    data = report(cli, root, "r1", "r2")
    dvc = oracle(root, "r1", "r2")
    assert metric_rows(data) == dvc["metrics"]
    assert {path for path, _name in metric_rows(data)} == {
        "eval/top.json", "nlp/out/bert.json", "nlp/sub2/m/x.json", "nlp/summary.json"}
    assert param_rows(data) == dvc["params"]
    nested = report(cli, root / "experiments", "r1", "r2")
    assert metric_rows(nested) == oracle(root / "experiments", "r1", "r2")["metrics"]
    assert nested["verdict"] == "fail" and "dice regressed 0.8 → 0.7" in nested["summary"]


def test_register_versions_lineage_history_without_mlops_yaml(built, cli, tmp_path) -> None:
    root = copy_repo(built["monorepo"], tmp_path / "gto-only")
    assert not (root / "mlops.yaml").exists()
    versions = json.loads(cli("-C", root, "versions", "--json").out)
    shown = gto_json(root)
    assert {v["model"] for v in versions} == {n for n, v in shown.items() if v["version"]}
    assert set(shown) == {"root-model", "nlp:classifier", "experiments:exp-model",
                          "legacy-model"}
    git(root, "commit", "-q", "--allow-empty", "-m", "docs")  # r2 has its versions already
    made = json.loads(cli("-C", root, "register", "nlp:classifier", "--json").out)
    assert made["tag"] == "nlp=classifier@v0.2.1"
    nested = json.loads(cli("-C", root / "experiments", "register", "exp-model",
                            "--json").out)
    assert nested["tag"] == "experiments=exp-model@v0.1.1"
    shown = gto_json(root)
    assert shown["nlp:classifier"]["version"] == "v0.2.1"
    assert shown["experiments:exp-model"]["version"] == "v0.1.1"
    lineage = json.loads(cli("-C", root, "lineage", "nlp:classifier@v0.2.0", "--json").out)
    assert lineage["artifact"]["path"] == "out/model.bin"  # as DVC: relative to nlp/
    history = cli("-C", root, "history", "nlp:classifier", "--json")
    assert history.code == 0 and "prod" in history.out
    assert not (root / "mlops.yaml").exists() and git(root, "status", "--porcelain") == ""


# -- no stages: renames, CSV metrics, every plot template, a dvc.yaml DVC rejects -----------


def test_renamed_and_csv_metrics_and_every_plot_template(built, oracle, cli, tmp_path) -> None:
    root = copy_repo(built["plain"], tmp_path / "plain")
    git(root, "checkout", "-q", "r2")
    (root / "mlops.yaml").write_text(
        "models:\n  m:\n    policy:\n      dice_mean: {direction: higher}\n"
        "      loss: {direction: lower}\n")
    data = report(cli, root, "r1", "r2")
    dvc = oracle(built["plain"], "r1", "r2")
    assert metric_rows(data) == dvc["metrics"]
    assert ("eval/extra.csv", "") in dvc["metrics"]  # a CSV "metric" is one string to DVC
    moved = {m["name"]: m for m in data["metrics"] if m["base_path"]}
    assert moved["dice_mean"]["status"] == "improved"
    assert data["verdict"] == "pass"
    assert "m: eval/scores.json has the metrics of eval/metrics.json, gone at the head: " \
        "matched by key path" in data["notes"]
    assert plot_ids(data) >= set(dvc["plots"])
    assert_points(data, dvc["plots"], {"r1": "r1", "r2": "r2"})
    kinds = {c["plot"]: c["kind"] for c in data["plots"]}
    assert kinds == {"eval/points.json": "scatter", "importance": "bar",
                     "dvclive/plots/metrics/train/loss.tsv": "line"}
    loss = next(c for c in data["plots"] if c["plot"].endswith("loss.tsv"))
    assert [len(s["x"]) for s in loss["series"]] == [300, 300]  # every point, as DVC's
    records = plot_records(dvc["plots"]["confusion"])
    cells = Counter((r["rev"], r["actual"], r["predicted"]) for r in records)
    confusion = next(n for n in data["notes"] if n.startswith("confusion"))
    assert f"bird→bird: {cells[('r1', 'bird', 'bird')]} → {cells[('r2', 'bird', 'bird')]}" \
        in confusion
    assert any(n.startswith("eval/images/a.png: an image, unchanged") for n in data["notes"])
    assert any(n.startswith("eval/roc.png: an image, changed") for n in data["notes"])
    assert "ignored.json" not in json.dumps(data)  # .dvcignore'd: DVC does not read it


def test_a_policy_for_a_metric_the_project_has_now_is_a_note_on_older_pairs(built, cli,
                                                                           tmp_path) -> None:
    root = copy_repo(built["plain"], tmp_path / "plain")
    git(root, "checkout", "-q", "r2")
    (root / "eval" / "scores.json").write_text('{"dice_mean": 0.91, "loss": 0.27, "iou": 0.5}')
    (root / "mlops.yaml").write_text("models:\n  m:\n    policy:\n"
                                     "      iou: {direction: higher}\n")
    data = report(cli, root, "r1", "r2")
    assert "m: policy iou matches no metric at base or head (the project has it now: this " \
           "pair predates it)" in data["notes"]
    (root / "mlops.yaml").write_text("models:\n  m:\n    policy:\n"
                                     "      iuo: {direction: higher}\n")
    typo = cli("-C", root, "report", "--base", "r1", "--head", "r2")
    assert typo.code == 1 and "policy.iuo: matches no metric at base or head" in typo.err


def test_a_dvc_yaml_dvc_rejects_fails_the_head_without_calling_metrics_removed(
        built, cli, tmp_path) -> None:
    root = copy_repo(built["plain"], tmp_path / "plain")
    (root / "mlops.yaml").write_text("models:\n  m: {}\n")
    data = report(cli, root, "r2", "r3")
    assert data["verdict"] == "fail"
    assert "DVC rejects dvc.yaml: './dvc.yaml' validation failed" in data["summary"]
    assert {m["status"] for m in data["metrics"]} == {"unreadable"}


# -- the fast path, proven ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["templated", "matrix", "monorepo", "plain"])
def test_the_fast_path_resolves_as_dvc_does(built, name: str) -> None:
    repo = GitRepo.open(built[name])
    try:
        roots = ["", "experiments"] if name == "monorepo" else [""]
        for tag in ("r1", "r2", "r3"):
            sha = repo.try_rev_parse(tag)
            for root in roots if sha else ():
                assert read_pipeline(repo, sha, root) == read_pipeline(repo, sha, root,
                                                                       fast=False)
    finally:
        repo.close()



def test_a_file_dvc_skips_is_named_but_a_judged_metrics_file_unreadable_fails(
        built, cli, tmp_path) -> None:
    """Images in a metrics directory are skipped as DVC skips them (named, no failure); a
    metrics file whose base values the policy judges fails when the head is not UTF-8."""
    root = copy_repo(built["plain"], tmp_path / "plain")
    git(root, "checkout", "-q", "r2")
    (root / "mlops.yaml").write_text("models:\n  m:\n    policy:\n"
                                     "      dice_mean: {direction: higher}\n")
    dvc_yaml = root / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().replace("  - eval/extra.csv\n",
                                                     "  - eval/extra.csv\n  - eval/images\n"))
    data = report(cli, root, "r2", None)
    assert data["verdict"] == "pass", data["summary"]
    assert {u["path"] for u in data["models"][0]["coverage"]["head"]["unread"]} == \
        {"eval/images/a.png", "eval/images/b.png"}
    (root / "eval" / "scores.json").write_bytes(b'{"dice_mean": 0.9, "caf\xe9": 1}')
    data = report(cli, root, "r2", None)
    assert data["verdict"] == "fail"
    assert data["summary"].startswith("fail: m: eval/scores.json at workspace: not UTF-8 "
                                      "text (byte 0xe9 at offset 23"), data["summary"]
