"""Install paths that exist: README's commands put `jx-mlops` on PATH, and every pipeline a
project is generated with installs jx-mlops as the GitHub Action does, from the jx-mlops
source at the version that generated it (never a bare name no package index serves);
the generated install command is run, offline, against this checkout."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kit.dvc import dvc
from kit.git import git

from jx_mlops import __version__

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = ("pullrequest.yaml", "release.yaml", "chatops.yaml", "verify.yaml")
SOURCE = f"jx-mlops @ git+https://github.com/jx-mlops/jx-mlops@v{__version__}"
BARE = re.compile(r"pip install[^\n]*\sjx-mlops(?:[=<>~! ]|$)", re.M)


def _adopted(root: Path, cli) -> Path:
    """`jx-mlops init` in a small git + DVC repository: the CI files it writes."""
    root.mkdir()
    git(root, "init", "-q")
    dvc(root, "init", "-q")
    (root / "dvc.yaml").write_text("stages:\n  train:\n    cmd: python t.py\n"
                                   "    outs: [model.pkl]\n")
    assert cli("-C", root, "init").code == 0
    return root


def _install_step(pipeline: Path) -> tuple[str, list[str]]:
    """(JX_MLOPS_SOURCE, the pip command) of a Lighthouse pipeline's install step."""
    run = yaml.safe_load(pipeline.read_text())
    steps = run["spec"]["pipelineSpec"]["tasks"][0]["taskSpec"]["steps"]
    step = next(s for s in steps if s["name"] == "install-jx-mlops")
    source = next(e["value"] for e in step["env"] if e["name"] == "JX_MLOPS_SOURCE")
    line = next(ln for ln in step["script"].splitlines() if "pip install" in ln
                and "JX_MLOPS_SOURCE" in ln)
    return source, shlex.split(line.strip())


def test_readme_puts_jx_mlops_on_path() -> None:
    readme = (ROOT / "README.md").read_text()
    first = readme[readme.index("```sh"):readme.index("```", readme.index("```sh") + 5)]
    # The first block is the two commands for a fresh machine; PATH is the next paragraph.
    commands = [ln.split("#")[0].strip() for ln in first.splitlines()[1:] if ln.strip()]
    assert commands == ["make demo", "make test"]
    assert "`. .venv/bin/activate`" in readme[:readme.index("jx-mlops brings")]
    assert "pipx install" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^VENV \?= \.venv$", makefile, re.M)
    assert '$(BIN)/python -m pip install --quiet -e ".[quickstarts]"' in makefile
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.scripts]\njx-mlops = "jx_mlops.cli.main:main"' in pyproject


def test_generated_pipelines_install_jx_mlops_from_its_source(cli, tmp_path: Path) -> None:
    project = _adopted(tmp_path / "proj", cli)
    for name in PIPELINES:
        source, command = _install_step(project / ".lighthouse" / "jenkins-x" / name)
        assert source == SOURCE and command[-1] == "$JX_MLOPS_SOURCE", name
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 6
    for path in workflows:
        uses = re.findall(r"uses: (jx-mlops/\S+)", path.read_text())
        assert uses and set(uses) == {f"jx-mlops/jx-mlops@v{__version__}"}, path
    generated = [p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts
                 and ".dvc" not in p.parts]
    assert not [p for p in generated if BARE.search(p.read_text())]
    readme = (ROOT / "quickstarts" / "_shared" / "template" / "README.md.tmpl").read_text()
    assert 'pip install -r requirements.txt "{{ jx_mlops_source }}"' in readme


def test_the_source_and_the_action_are_configurable(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JX_MLOPS_SOURCE", "jx-mlops @ https://mirror.example/jx_mlops.whl")
    monkeypatch.setenv("JX_MLOPS_ACTION", "acme/jx-mlops-fork@main")
    project = _adopted(tmp_path / "proj", cli)
    source, _command = _install_step(project / ".lighthouse/jenkins-x/release.yaml")
    assert source == "jx-mlops @ https://mirror.example/jx_mlops.whl"
    assert "uses: acme/jx-mlops-fork@main" in (
        project / ".github/workflows/mlops-release.yml").read_text()
    monkeypatch.setenv("JX_MLOPS_SOURCE", 'jx-mlops"; rm -rf /')
    refused = cli("-C", tmp_path / "proj", "init", "--force")
    assert refused.code == 1 and refused.err.startswith("error: JX_MLOPS_SOURCE ")


@pytest.mark.slow  # builds jx-mlops twice (hatchling), about 10 s
def test_the_generated_install_command_installs_this_checkout_offline(
        cli, tmp_path: Path, monkeypatch) -> None:
    """The pipeline's pip command, and the GitHub Action's, run as generated with this
    checkout as the source; offline: no index, dependencies not fetched, the build backend
    (hatchling) the one installed here."""
    offline = ["--no-index", "--no-deps", "--no-build-isolation"]
    monkeypatch.setenv("JX_MLOPS_SOURCE", f"jx-mlops @ {ROOT.as_uri()}")
    project = _adopted(tmp_path / "proj", cli)
    source, command = _install_step(project / ".lighthouse" / "jenkins-x" / "pullrequest.yaml")
    assert command[0] == "/workspace/venv/bin/pip"
    pipeline = [sys.executable, "-m", "pip", *command[1:-1], source]
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install jx-mlops")
    action_command = [sys.executable if w == "python3" else w for w in
                      shlex.split(install["run"].replace('"$ACTION_PATH"', str(ROOT)))]
    for name, args in (("pipeline", pipeline), ("action", action_command)):
        target = tmp_path / name
        done = subprocess.run([*args, *offline, "--target", str(target)], capture_output=True,
                              text=True, check=False, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert f'__version__ = "{__version__}"' in (target / "jx_mlops" / "__init__.py").read_text()
        assert (target / "jx_mlops" / "_quickstarts" / "sklearn-classifier").is_dir()
        assert (target / "bin" / "jx-mlops").is_file()
