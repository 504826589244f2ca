"""Operations: what production says back (insights: DORA's four keys for models)."""

from __future__ import annotations

import argparse
from typing import Any

from jx_mlops.cli.common import EXIT_OK, add_command, add_json, project_config


def cmd_insights(args: argparse.Namespace) -> int:
    from jx_mlops import views
    from jx_mlops.forge import open_forge
    from jx_mlops.promote.insights import collect_insights

    config = project_config(args)
    insights = collect_insights(config, open_forge(config.forge), model=args.model,
                                environment=args.env, since=args.since)
    views.show_insights(insights, as_json=args.json, fmt=args.format)
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    p = add_command(sub, "insights", cmd_insights,
                    "DORA's four keys per model and environment (deployment frequency, lead "
                    "time, change failure rate, time to restore), from git history alone")
    p.add_argument("--model", metavar="MODEL", help="one model")
    p.add_argument("--env", metavar="ENV", help="one environment")
    p.add_argument("--since", metavar="DATE",
                   help="only deployments from DATE on (YYYY-MM-DD, UTC)")
    p.add_argument("--format", choices=("table", "md"), default="table",
                   help="md: a Markdown report with Mermaid charts, for a scheduled job")
    add_json(p)
