"""`jx-mlops demo`: the whole loop on a throwaway local forge, narrated step by step."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from jx_mlops.console import out_console

PROJECT = "churn-model"
RETRAIN = ["train.n_estimators=200", "train.max_depth=8"]
STEPS = 7


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _heading(number: int, text: str, command: str) -> None:
    from rich.markup import escape
    from rich.rule import Rule

    out = out_console()
    out.print()
    out.print(Rule(f"[bold]{number}/{STEPS}  {escape(text)}", align="left"))
    out.print(f"[dim]$ {escape(command)}[/dim]")


def _as(user: str) -> None:
    """Who acts next: the forge records authors, mergers and promoters by this name."""
    os.environ["JX_MLOPS_USER"] = user


def _run(workdir: Path, kept: bool) -> None:
    from jx_mlops.ci.pr import PrRequest, run_pr_check
    from jx_mlops.ci.release import run_release
    from jx_mlops.config.project import load_config
    from jx_mlops.forge.base import PullDetail
    from jx_mlops.forge.kinds import open_forge
    from jx_mlops.project.create import create_project
    from jx_mlops.project.retrain import retrain
    from jx_mlops.promote.status import collect_status
    from jx_mlops.views.ci import show_pr_check
    from jx_mlops.views.forge import show_pull_detail, show_pull_opened
    from jx_mlops.views.project import show_created
    from jx_mlops.views.registry import show_release, show_status

    out = out_console()
    project = workdir / PROJECT
    _heading(1, "A platform engineer scaffolds a project from a quickstart",
             f"jx-mlops create {PROJECT} --quickstart sklearn-classifier")
    _as("platform-team")
    show_created(create_project(PROJECT, quickstart="sklearn-classifier",
                                directory=project), next_line=kept)
    config = load_config(project)

    _heading(2, "A data scientist opens a pull request to retrain",
             f"jx-mlops retrain --set {' --set '.join(RETRAIN)}")
    _as("ada")
    pull = retrain(config, RETRAIN)
    show_pull_opened(pull)

    _heading(3, "CI trains the pull request and evaluates it", f"jx-mlops ci pr --pr {pull.number}")
    _as("jx-mlops-bot")
    check = run_pr_check(config, PrRequest(number=pull.number))
    show_pr_check(check, as_json=False)

    _heading(4, "The reviewer reads the evaluation comment on the PR",
             f"jx-mlops forge pr show {pull.number}")
    forge = open_forge(config.forge)
    shown = forge.get_pull(config.forge.repo, pull.number)
    show_pull_detail(config.forge.repo, PullDetail(
        shown, tuple(forge.list_comments(config.forge.repo, pull.number)),
        tuple(forge.get_statuses(config.forge.repo, shown.head_sha))), as_json=False)

    _heading(5, "A reviewer merges it", f"jx-mlops forge pr merge {pull.number}")
    _as("grace")
    merged = forge.merge_pull(config.forge.repo, pull.number)
    out.print(f"merged #{merged.number} into {merged.base} as {merged.merge_commit_sha}",
              markup=False)

    _heading(6, "CI releases the merge: registry tag, promotion to staging", "jx-mlops ci release")
    _as("jx-mlops-bot")
    show_release(run_release(config), as_json=False)

    _heading(7, "Everyone sees what runs where", "jx-mlops status")
    show_status(collect_status(config, forge), as_json=False)


def run_demo(*, keep: Path | None = None) -> int:
    """Run the demo in a temporary $JX_MLOPS_HOME; keep its files in ``keep`` if given."""
    if keep is not None:
        keep = keep.resolve()
        if keep.exists() and any(keep.iterdir()):
            from jx_mlops.errors import UsageError

            raise UsageError(f"--keep {keep}: directory exists and is not empty")
    workdir = keep or Path(tempfile.mkdtemp(prefix="jx-mlops-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "JX_MLOPS_HOME": str(workdir / "jx-home"),
        "DVC_SITE_CACHE_DIR": str(workdir / "dvc-site-cache"),
        "GIT_AUTHOR_NAME": "jx-mlops demo", "GIT_AUTHOR_EMAIL": "demo@jx-mlops.invalid",
        "GIT_COMMITTER_NAME": "jx-mlops demo", "GIT_COMMITTER_EMAIL": "demo@jx-mlops.invalid",
        "JX_MLOPS_USER": "demo",
    }
    try:
        with _environment(env):
            _run(workdir, kept=keep is not None)
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    out = out_console()
    out.print()
    if keep is not None:
        out.print(f"[bold green]Demo complete.[/] Files kept in {keep} "
                  f"(JX_MLOPS_HOME={keep / 'jx-home'}).")
        out.print(f"Next: cd {keep / PROJECT} && export JX_MLOPS_HOME={keep / 'jx-home'} "
                  "&& jx-mlops status", markup=False)
    else:
        out.print("[bold green]Demo complete.[/] The whole loop ran offline on a throwaway "
                  "local forge.")
    return 0
