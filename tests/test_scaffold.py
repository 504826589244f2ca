"""Quickstart rendering: placeholders, shared layer, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.errors import QuickstartError
from jx_mlops.scaffold import load_quickstart, render, resolve_variables


def make_quickstart(root: Path) -> Path:
    shared = root / "_shared" / "template"
    (shared / "ci").mkdir(parents=True)
    (shared / "ci" / "pipeline.yml").write_text("run: ${{ github.sha }}\n")
    (shared / "README.md.tmpl").write_text("shared {{ name }}\n")
    qs = root / "demo"
    (qs / "template").mkdir(parents=True)
    (qs / "quickstart.yaml").write_text(
        "name: demo\ndescription: d\nvariables:\n  name: {}\n  label: {default: '{{ name }}-x'}\n")
    (qs / "template" / "README.md.tmpl").write_text("own {{ name }} {{ label }}\n")
    (qs / "template" / "dvc.yaml").write_text("cmd: echo ${item}\n")
    return qs


def test_render_layers_placeholders_and_overrides(tmp_path: Path) -> None:
    qs = load_quickstart(make_quickstart(tmp_path / "qs"))
    values = resolve_variables(qs, {"name": "churn"})
    assert values == {"name": "churn", "label": "churn-x"}
    dest = tmp_path / "out"
    dest.mkdir()
    render(qs, dest, values)
    assert (dest / "README.md").read_text() == "own churn churn-x\n"
    assert (dest / "ci" / "pipeline.yml").read_text() == "run: ${{ github.sha }}\n"
    assert (dest / "dvc.yaml").read_text() == "cmd: echo ${item}\n"
    assert not (dest / "README.md.tmpl").exists()


def test_unknown_placeholder_names_the_file(tmp_path: Path) -> None:
    root = make_quickstart(tmp_path / "qs")
    (root / "template" / "bad.txt.tmpl").write_text("{{ nope }}")
    qs = load_quickstart(root)
    with pytest.raises(QuickstartError, match=r"bad\.txt: unknown template variable 'nope'"):
        render(qs, tmp_path, resolve_variables(qs, {"name": "x"}))


def test_missing_required_variable(tmp_path: Path) -> None:
    qs = load_quickstart(make_quickstart(tmp_path / "qs"))
    with pytest.raises(QuickstartError, match="needs a value for 'name'"):
        resolve_variables(qs, {})
