"""How project commands show their result: quickstarts, create, init, report, data updates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from jx_mlops.console import out_console
from jx_mlops.views.common import print_json, print_table
from jx_mlops.views.forge import show_pull_opened
from jx_mlops.views.table import Column

if TYPE_CHECKING:
    from jx_mlops.compare.comparison import Comparison
    from jx_mlops.project.create import CreatedProject
    from jx_mlops.project.data_updates import DataUpdate
    from jx_mlops.project.init import InitResult
    from jx_mlops.project.quickstarts import Quickstart


def show_quickstarts(quickstarts: Sequence[Quickstart],
                     missing: dict[str, list[str]] | None = None) -> None:
    missing = missing or {}

    def needs(q: Quickstart) -> str:
        absent = missing.get(q.name)
        return "ready" if not absent else "missing " + ", ".join(absent)

    print_table(None, ("Quickstart", Column("Description", "wrap"), Column("Packages", "wrap")),
                [(q.name, q.description, needs(q)) for q in quickstarts])


def show_created(created: CreatedProject, *, next_line: bool = True,
                 as_json: bool = False) -> None:
    """What `create` made; ``next_line``: say what to run next in it (not where the
    directory will be gone, as the demo's is)."""
    if as_json:
        print_json({"repo": created.repo, "quickstart": created.quickstart,
                    "path": str(created.path), "commit": created.commit,
                    "dvc_remote": created.dvc_remote,
                    "environments_created": list(created.environments_created),
                    "environments_reused": list(created.environments_reused)})
        return
    from rich.markup import escape

    out = out_console()
    out.print(f"[bold green]Created[/] {escape(created.repo)} from quickstart "
              f"{escape(created.quickstart)} in {escape(str(created.path))}")
    out.print(f"  first commit {created.commit[:12]}; DVC remote {escape(created.dvc_remote)}")
    for repo in created.environments_created:
        out.print(f"  environment repository {escape(repo)} created")
    for repo in created.environments_reused:
        out.print(f"  environment repository {escape(repo)} reused")
    if next_line:
        out.print(f"Next: cd {escape(str(created.path))} && jx-mlops retrain --set KEY=VALUE")


def show_comparison(comparison: Comparison, fmt: str) -> None:
    if fmt == "json":
        from jx_mlops.report.jsonout import comparison_to_json

        print_json(comparison_to_json(comparison))
    elif fmt == "md":
        from jx_mlops.report.markdown import render_comment

        print(render_comment(comparison), end="")
    elif fmt == "html":
        from jx_mlops.report.html import render_html

        print(render_html(comparison), end="")
    else:
        from jx_mlops.report.terminal import render_terminal

        # The tables fit the terminal's width; lines of text stay whole (a terminal wraps
        # them; `| head -1` and grep get them in one piece).
        out_console().print(render_terminal(comparison))


def show_data_update(update: DataUpdate, *, as_json: bool = False) -> None:
    if as_json:
        print_json({"changes": [{"path": c.before.path, "source": c.before.source,
                                 "md5_before": c.before.md5, "md5_after": c.after.md5}
                                for c in update.changes],
                    "pull_request": update.pull.to_json() if update.pull else None,
                    "reused": update.reused, "reason": update.reason or None})
        return
    out = out_console()
    for change in update.changes:
        before, after = change.before, change.after
        out.print(f"{before.path}: md5 {(before.md5 or '?')[:12]} -> {(after.md5 or '?')[:12]}"
                  f" (source {before.source})", markup=False)
    if update.pull is None:
        out.print(f"No pull request: {update.reason}.", markup=False)
    elif update.reused:
        out.print(f"Pull request #{update.pull.number} already proposes this data: "
                  f"{update.pull.title}", markup=False)
    else:
        show_pull_opened(update.pull)


_INIT_VERBS = {"create": "create", "overwrite": "overwrite", "unchanged": "unchanged",
               "kept": "kept (differs; --force overwrites)"}


def show_init(result: InitResult, *, as_json: bool) -> None:
    """What `jx-mlops init` found (models, metric directions) and wrote."""
    if as_json:
        print_json({"root": str(result.root), "dry_run": result.dry_run,
               "models": [{"name": m.name, "path": m.path, "source": m.source,
                           "registry_name": m.registry_name or None}
                          for m in result.models],
               "metrics": [{"metric": g.key, "direction": g.direction}
                           for g in result.metrics],
               "files": [{"path": f.path, "action": f.action} for f in result.files],
               "notes": list(result.notes),
               "publication": result.publication.to_json() if result.publication else None})
        return
    console = out_console()
    for model in result.models:
        named = f", registered as {model.registry_name}" if model.registry_name else ""
        console.print(f"model {model.name}: {model.path} ({model.source}{named})")
    directed = sum(1 for g in result.metrics if g.direction)
    console.print(f"metrics: {len(result.metrics)}, {directed} with a direction "
                  f"from the name")
    would = "would " if result.dry_run else ""
    for planned in result.files:
        if planned.action != "unchanged":
            console.print(f"{would}{_INIT_VERBS[planned.action]}: {planned.path}")
    unchanged = sum(1 for f in result.files if f.action == "unchanged")
    if unchanged:
        console.print(f"{unchanged} file(s) already as init writes them")
    for note in result.notes:
        console.print(f"note: {note}")
    if result.publication is not None:
        from jx_mlops.views.forge import publication_lines

        for line in publication_lines(result.publication):
            console.print(line, markup=False)
