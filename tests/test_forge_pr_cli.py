"""`forge pr create|close|reopen|merge` on a protected main, as a person uses them."""

from __future__ import annotations

from kit.cli import run_cli_process
from kit.git import git
from kit.workspace import Project
from rich.cells import cell_len

from jx_mlops.forge.local.forge import LocalForge

REPO = "local/churn"


def test_propose_a_code_change_close_reopen_and_merge_only_when_checked(
        project: Project, cli, monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    forge = LocalForge(project.home / "forge")
    on_main = cli("forge", "pr", "create")
    assert on_main.code == 1 and "you are on main, the base" in on_main.err
    git(project.path, "switch", "-qc", "faster-prepare")
    nothing = cli("forge", "pr", "create")
    assert nothing.code == 1 and "has no commits that main lacks" in nothing.err

    (project.path / "src" / "prepare.py").write_text(
        (project.path / "src" / "prepare.py").read_text() + "\n# vectorised\n")
    git(project.path, "commit", "-qam", "prepare: vectorise the split")
    result = cli("forge", "pr", "create", "--body", "Same output, faster.")
    assert result.code == 0, result.err
    assert "Opened pull request #1: prepare: vectorise the split" in result.out
    pull = forge.get_pull(REPO, 1)
    assert (pull.head, pull.base, pull.body) == ("faster-prepare", "main", "Same output, faster.")
    assert pull.head_sha == git(project.path, "rev-parse", "HEAD")
    again = cli("forge", "pr", "create")
    assert again.code == 1 and "pull request #1 is already open" in again.err

    assert cli("forge", "pr", "close", "1").out.strip() == f"closed {REPO}#1"
    assert forge.get_pull(REPO, 1).state == "closed"
    assert cli("forge", "pr", "reopen", "1").out.strip() == f"reopened {REPO}#1"

    # main is protected: no evaluation reported yet, so no merge without --force.
    refused = cli("forge", "pr", "merge", "1")
    assert refused.code == 1
    assert "cannot be merged into protected main: jx-mlops/evaluation: not reported" in \
        refused.err
    forge.set_status(REPO, pull.head_sha, state="success", context="jx-mlops/evaluation")
    assert cli("forge", "pr", "merge", "1").code == 0
    message = git(project.home / "forge/repos/local/churn.git", "log", "-1", "--format=%B",
                  "main")
    assert "Forced" not in message


COMMENT = """<!-- jx-mlops:report id=default -->
### ✅ jx-mlops evaluation: pass

| Metric | Base | Head | Change | 95% CI | Status |
|:--|--:|--:|--:|--:|:--|
| metrics.json: accuracy | 0.724 | 0.7187 | -0.0053 | [-0.0147, +0.0027] ≈ | 🟡 within noise |

<details><summary>All params (11)</summary>

| Param | Base | Head |
|:--|--:|--:|
| params.yaml: train.seed | 7 | 7 |

</details>

<sub>Posted by jx-mlops.</sub>
"""


def test_pr_show_renders_the_comment_for_an_80_column_terminal(project: Project, cli,
                                                              monkeypatch) -> None:
    monkeypatch.chdir(project.path)
    monkeypatch.setenv("COLUMNS", "80")
    assert cli("retrain", "--set", "train.seed=3").code == 0
    LocalForge(project.home / "forge").create_comment(REPO, 1, COMMENT)
    # A process of its own: the terminal width is read when the console is first made.
    shown = run_cli_process("forge", "pr", "show", "1", cwd=project.path).stdout
    panel = [line for line in shown.splitlines() if line[:1] in "╭│╰"]
    assert panel and all(cell_len(line) == 80 for line in panel)
    assert "jx-mlops:report" not in shown and "<details>" not in shown
    assert "Status" in shown and "within noise" in shown  # the last column survives
    assert "▸ All params (11) (collapsed; --raw shows it)" in shown
    assert not any("params.yaml" in line for line in panel)
    assert "Posted by jx-mlops." in shown
    raw = cli("forge", "pr", "show", "1", "--raw").out
    assert "<!-- jx-mlops:report id=default -->" in raw and "train.seed" in raw
    # The markdown as posted, line for line: no panel, no wrapping at the terminal's width.
    assert COMMENT.strip() in raw
