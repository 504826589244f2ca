"""Quickstart definitions and rendering: validation, placeholders, shared layer, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from jx_mlops.errors import QuickstartError
from jx_mlops.project.quickstarts import (
    check_template,
    list_quickstarts,
    load_quickstart,
    missing_requirements,
    render,
    resolve_variables,
)


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


# -- quickstart.yaml validation, built-in variables, requirements ---------------------------


def write_quickstart(root: Path, definition: str) -> Path:
    (root / "template").mkdir(parents=True)
    (root / "quickstart.yaml").write_text(definition)
    return root


@pytest.mark.parametrize(("definition", "message"), [
    ("name: demo\ncolour: red\n", r"quickstart\.yaml: colour: unknown key \(expected one of"),
    ("name: Demo_QS\n", r"name: expected a lowercase name with dashes, got 'Demo_QS'"),
    ("name: demo\nversion: 2\n", r"version: expected 1, got 2"),
    ("name: demo\nvariables:\n  x: {help: y}\n", r"variables\.x\.help: unknown key"),
    ("name: demo\nvariables:\n  x-y: {}\n", r"variables\.x-y: a variable name is"),
    ("name: demo\nvariables:\n  x: {pattern: '('}\n", r"variables\.x\.pattern: not a regular"),
    ("name: demo\ntasks: [1, 2]\n", r"tasks: expected a list of strings"),
    ("- a list\n", r"expected a mapping"),
])
def test_invalid_definitions_name_file_and_key(tmp_path: Path, definition: str,
                                               message: str) -> None:
    with pytest.raises(QuickstartError, match=message):
        load_quickstart(write_quickstart(tmp_path / "qs", definition))


def test_choices_and_patterns_are_enforced(tmp_path: Path) -> None:
    qs = load_quickstart(write_quickstart(tmp_path / "qs", (
        "name: demo\nvariables:\n"
        "  kind: {default: local, choices: [local, github]}\n"
        "  owner: {default: acme, pattern: '[a-z]+', description: the account}\n")))
    assert resolve_variables(qs, {}) == {"kind": "local", "owner": "acme"}
    with pytest.raises(QuickstartError, match=r"kind='gitlab': expected one of local, github"):
        resolve_variables(qs, {"kind": "gitlab"})
    with pytest.raises(QuickstartError, match=r"owner='Acme Corp': does not match \[a-z\]\+"):
        resolve_variables(qs, {"owner": "Acme Corp"})


def test_builtin_variables_describe_the_quickstart(tmp_path: Path) -> None:
    root = write_quickstart(tmp_path / "qs", "name: demo\ndescription: >-\n  A small\n  one.\n")
    (root / "template" / "README.md.tmpl").write_text(
        "{{ quickstart }}: {{ quickstart_description }}")
    qs = load_quickstart(root)
    dest = tmp_path / "out"
    dest.mkdir()
    render(qs, dest, resolve_variables(qs, {}))
    assert (dest / "README.md").read_text() == "demo: A small one."


def test_check_template_fails_before_anything_is_written(tmp_path: Path) -> None:
    root = make_quickstart(tmp_path / "qs")
    (root / "template" / "bad.txt.tmpl").write_text("{{ nope }}")
    qs = load_quickstart(root)
    with pytest.raises(QuickstartError, match="unknown template variable 'nope'"):
        check_template(qs, resolve_variables(qs, {"name": "x"}))


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not publish")
    root = make_quickstart(tmp_path / "qs")
    (root / "template" / "leak.txt").symlink_to(secret)
    qs = load_quickstart(root)
    with pytest.raises(QuickstartError, match=r"leak\.txt is a symbolic link"):
        check_template(qs, resolve_variables(qs, {"name": "x"}))


def test_missing_requirements_name_what_is_absent_or_too_old(tmp_path: Path) -> None:
    qs = load_quickstart(write_quickstart(tmp_path / "qs", (
        "name: demo\nrequires:\n  - pyyaml>=5\n  - pyyaml>=999\n"
        "  - surely-not-installed-jx-pkg\n")))
    missing = missing_requirements(qs)
    assert missing[0].startswith("pyyaml>=999 (found ")
    assert missing[1:] == ["surely-not-installed-jx-pkg"]
    bad = load_quickstart(write_quickstart(tmp_path / "bad", "name: bad\nrequires: ['!!']\n"))
    with pytest.raises(QuickstartError, match="requires: '!!' is not a package requirement"):
        missing_requirements(bad)


def test_bundled_quickstarts_are_valid_and_render(tmp_path: Path) -> None:
    for qs in list_quickstarts():
        values = resolve_variables(qs, {"project_name": "demo"})
        assert check_template(qs, values) > 10
        assert qs.trusted and qs.source == "bundled"
        assert qs.tasks == ("python src/make_dataset.py",)
        dest = tmp_path / qs.name
        dest.mkdir()
        written = {p.relative_to(dest).as_posix() for p in render(qs, dest, values)}
        # the shared layer, then the quickstart's own files
        assert {"README.md", "src/kit/fairness.py", "src/evaluate.py", "tests/test_service.py",
                "src/model_io.py", "src/common.py", "dvc.yaml", "mlops.yaml"} <= written
        assert f"from the `{qs.name}` quickstart" in (dest / "README.md").read_text()
