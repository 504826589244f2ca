"""`jx-mlops env VERB`: the verbs that change or read what runs in an environment, grouped.

promote, approve, rollback, disable, hold, freeze, unfreeze and status are also top-level
commands (their first names, kept for scripts and habits); both spellings share one parser
builder, so they cannot drift apart.
"""

from __future__ import annotations

from jx_mlops.cli import operations, registry

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

VERBS = (registry.promote_parser, registry.approve_parser, registry.rollback_parser,
         registry.disable_parser, operations.hold_parser, operations.freeze_parser,
         operations.unfreeze_parser, registry.status_parser)


def add_parsers(sub: Any) -> None:
    env = sub.add_parser("env", help="what runs in each environment: promote, approve, "
                                     "rollback, disable, hold, freeze, status",
                         description="Promote, approve, roll back, disable, hold, freeze "
                                     "and show "
                                     "what runs in each environment. Each verb is also a "
                                     "command of its own (promote is env promote).")
    env_sub = env.add_subparsers(dest="env_command", required=True,
                                 metavar="{promote,approve,rollback,disable,hold,freeze,unfreeze,"
                                         "status}")
    for build in VERBS:
        build(env_sub)
        build(sub, alias=True)
