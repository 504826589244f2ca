"""DVC's post-processing rules (``jx_mlops.dvc.pipeline.assemble``), which dvc.yaml files
DVC collects, and the schema subset of the fast path: pure functions on resolved data.

The end-to-end oracle (DVC itself on real repositories) is tests/test_dvc_projects.py;
these pin each rule with the DVC function it mirrors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jx_mlops.dvc.pipeline import assemble
from jx_mlops.dvc.resolve import ResolutionCache, dvcyaml_paths
from jx_mlops.dvc.schema import plain_dvcyaml


def resolved(**parts: Any) -> dict[str, Any]:
    return {"stages": {}, "metrics": [], "params": [], "plots": [], "artifacts": {},
            "tracked_vars": {}, **parts}


def test_stages_are_named_and_pathed_as_dvc_addresses_them() -> None:
    pipeline = assemble("", [
        ("dvc.yaml", resolved(stages={"train@unet": {
            "cmd": "x", "params": ["train"], "metrics": [{"reports/unet.json": {"cache": False}}],
            "outs": ["models/unet.pt"]}})),
        ("nlp/dvc.yaml", resolved(stages={"shifted": {
            "cmd": "x", "wdir": "sub2", "params": [{"p.yaml": ["a.b"]}, {"whole.json": None}],
            "metrics": ["m/x.json"]}}))], default_params=True)
    train, shifted = pipeline.stages
    assert (train.name, train.group, train.item) == ("train@unet", "train", "unet")
    assert (shifted.name, shifted.wdir, shifted.lock_name) == \
        ("nlp/dvc.yaml:shifted", "nlp/sub2", "shifted")
    assert pipeline.metrics == ("reports/unet.json", "nlp/sub2/m/x.json")
    assert pipeline.output("reports/unet.json").cached is False  # type: ignore[union-attr]
    assert pipeline.output("models/unet.pt").stage == "train@unet"  # type: ignore[union-attr]
    # The root params.yaml is shown whole, whatever key a stage tracks in it.
    assert dict(pipeline.params) == {"params.yaml": None, "nlp/sub2/p.yaml": ("a.b",),
                                     "nlp/sub2/whole.json": None}
    assert pipeline.lockfiles() == ("dvc.lock", "nlp/dvc.lock")


def test_a_dvc_root_below_the_git_top_makes_paths_relative_to_it() -> None:
    pipeline = assemble("experiments", [("experiments/dvc.yaml", resolved(
        metrics=["metrics/eval.json"],
        artifacts={"exp-model": {"path": "model.pkl", "type": "model"}}))], False)
    assert pipeline.metrics == ("metrics/eval.json",)
    artifact, = pipeline.artifacts
    assert (artifact.name, artifact.path) == ("experiments:exp-model", "model.pkl")
    assert pipeline.git_path("model.pkl") == "experiments/model.pkl"


def test_tracked_vars_outside_params_files_are_params_too() -> None:
    pipeline = assemble("", [("dvc.yaml", resolved(
        stages={"s": {"cmd": "x"}},
        tracked_vars={"s": {"config/project.yaml": {"project": "runs"},
                            "params.yaml": {"lr": 1}}}))], default_params=True)
    assert dict(pipeline.vars_params) == {"config/project.yaml": {"project": "runs"}}


def test_plot_ids_are_dvcs() -> None:
    pipeline = assemble("", [
        ("dvc.yaml", resolved(
            stages={"t": {"cmd": "x", "plots": [{"plots/a.json": {"x": "step", "y": "loss",
                                                                  "cache": False}}]}},
            plots=["plots/a.json", {"roc": {"x": "fpr", "y": {"eval/train.json": "tpr",
                                                               "eval/test.json": "tpr"}}}])),
        ("nlp/dvc.yaml", resolved(plots=[{"curve.csv": {"template": "scatter"}}]))], False)
    ids = {p.name: p for p in pipeline.plots}
    # The same file as a stage plot and a top-level plot: DVC names the top-level one
    # CONFIG::ID; a plot whose y maps files is a name; a path joins the dvc.yaml's dir.
    assert set(ids) == {"plots/a.json", "dvc.yaml::plots/a.json", "roc", "nlp/curve.csv"}
    assert [s.file for s in ids["roc"].sources] == ["eval/train.json", "eval/test.json"]
    assert ids["nlp/curve.csv"].template == "scatter" and ids["nlp/curve.csv"].path_id


def test_a_rejected_dvc_yaml_is_a_problem_not_an_empty_pipeline() -> None:
    pipeline = assemble("", [("dvc.yaml", {"error": "'./dvc.yaml' validation failed"})],
                        True)
    assert pipeline.problems == ("DVC rejects dvc.yaml: './dvc.yaml' validation failed",)


def test_dvc_collects_dvc_yaml_files_below_its_root_but_not_in_sub_repositories() -> None:
    files = ["dvc.yaml", "nlp/dvc.yaml", ".dvc/config", "exp/.dvc/config", "exp/dvc.yaml",
             "ignored/dvc.yaml", "a/b/dvc.yaml", "a/foodvc.yaml", ".git/dvc.yaml"]
    assert dvcyaml_paths(files, "") == ["dvc.yaml", "ignored/dvc.yaml", "nlp/dvc.yaml",
                                        "a/b/dvc.yaml"]  # shallowest first
    assert dvcyaml_paths(files, "", lambda p, is_dir: p == "ignored") == \
        ["dvc.yaml", "nlp/dvc.yaml", "a/b/dvc.yaml"]
    assert dvcyaml_paths(files, "exp") == ["exp/dvc.yaml"]


@pytest.mark.parametrize("data", [
    {"stages": {"t": {"cmd": "x", "outs": [{"m.pkl": {"cache": True}}]}}},
    {"metrics": ["m.json"], "plots": ["p.csv", {"roc": {"x": "a", "y": {"f.json": "b"}}}]},
    {"artifacts": {"m": {"path": "m.pkl", "type": "model", "labels": ["x"]}}},
    {},
])
def test_a_dvc_yaml_without_templating_is_its_own_resolution(data: dict[str, Any]) -> None:
    plain = plain_dvcyaml(data)
    assert plain is not None and plain["stages"] == data.get("stages", {})


@pytest.mark.parametrize("data", [
    {"vars": ["p.yaml"]},  # DVC must load them
    {"stages": {"t": {"foreach": [1], "do": {"cmd": "x"}}}},
    {"stages": {"t": {"matrix": {"a": [1]}, "cmd": "x"}}},
    {"stages": {"t": {"cmd": "x", "outs": [{"m.pkl": {"cache": "no"}}]}}},  # DVC says why
    {"stages": {"t": {"outs": ["m"]}}},  # no cmd
    {"stages": {"t": {"cmd": "x", "frobnicate": 1}}},
    {"metrics": "m.json"},
    ["not", "a", "mapping"],
])
def test_anything_else_is_left_to_dvc(data: Any) -> None:
    assert plain_dvcyaml(data) is None


def test_the_resolution_cache_keeps_the_stages_order_on_disk(tmp_path: Path) -> None:
    """A warm run lists stages (and so plots) in DVC's order, as a cold run does: the cache
    file is not written sorted (``train@unet`` before ``train@fpn``)."""
    cache = ResolutionCache(tmp_path / "resolved.json")
    stages = {"train@unet": {"cmd": "a"}, "train@fpn": {"cmd": "b"}}
    cache.store("k", {"dvc.yaml": "1"}, resolved(stages=stages))
    cache.save()
    again = ResolutionCache.load(tmp_path / "resolved.json")
    assert list(again.entries["k"][0][1]["stages"]) == ["train@unet", "train@fpn"]
