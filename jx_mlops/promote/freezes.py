"""Freezes: an environment that accepts no promotion until someone unfreezes it (or until a
given time), as a release owner stops changes over a holiday or an incident.

A freeze is a file in the environment repository (``freeze.yaml``: why, who, since when,
until when), put there and taken away by pull requests like a hold, so the repository's
history says who froze and who unfroze. During a freeze ``promote``, a plain ``rollback``
and ``ci release`` are refused before anything is opened, saying until when; emergency
rollbacks (verify's automatic ones) pass and say so in their reason. `jx-mlops freeze` and
`unfreeze` need write permission on the environment repository.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from jx_mlops.config.project import EnvironmentConfig
from jx_mlops.environments.history import iso, trailers
from jx_mlops.environments.records import (
    FREEZE_PATH,
    DeploymentRecord,
    Freeze,
    freeze_content,
    read_freeze,
)
from jx_mlops.environments.repo import EnvironmentRepo
from jx_mlops.errors import InputError, PromotionError
from jx_mlops.forge.base import Forge
from jx_mlops.git.repo import GitRepo
from jx_mlops.identity import commit_identity
from jx_mlops.promote.landing import FileChange, require_writer

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


@dataclass(frozen=True)
class FreezeResult:
    """What `freeze` / `unfreeze` did (``changed`` False: it was already so)."""

    environment: str
    frozen: bool
    changed: bool
    freeze: Freeze | None
    pull_request: int | None = None


def parse_until(text: str, now: float) -> str:
    """``--until``: an ISO 8601 time with its offset (or Z), or a duration from now (2h,
    1d12h, 30m); returned as ISO 8601 UTC."""
    text = text.strip()
    match = _DURATION.match(text) if text else None
    if match and any(match.groups()):
        days, hours, minutes = (int(g or 0) for g in match.groups())
        return iso(now + timedelta(days=days, hours=hours, minutes=minutes).total_seconds())
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InputError(f"--until: expected a time with its offset such as "
                         f"2026-12-24T09:00+01:00 (or Z), or a duration such as 2h or 3d, "
                         f"got {text!r}")
    if at.timestamp() <= now:
        raise InputError(f"--until: {text} is in the past")
    return iso(at.timestamp())


def _epoch(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(
            timezone.utc).timestamp()
    except ValueError:
        return None


def in_force(freeze: Freeze | None, now: float) -> Freeze | None:
    """``freeze`` when it still holds at ``now`` (one whose ``until`` passed does not)."""
    if freeze is None:
        return None
    until = _epoch(freeze.until) if freeze.until else None
    return None if until is not None and until <= now else freeze


def describe(freeze: Freeze) -> str:
    until = f" until {freeze.until}" if freeze.until else " until someone unfreezes it"
    return f"frozen since {freeze.at} by {freeze.by}{until}: {freeze.reason}"


def refuse_frozen(env_repo: EnvironmentRepo, environment: str, what: str,
                  now: float | None = None) -> None:
    """A PromotionError when ``environment`` is frozen now."""
    freeze = in_force(env_repo.freeze(environment), time.time() if now is None else now)
    if freeze is None:
        return
    raise PromotionError(
        f"{what}: {environment} is {describe(freeze)}",
        hint=(f"it will be allowed after {freeze.until}" if freeze.until else
              f"`jx-mlops unfreeze --env {environment}` lifts it") +
             "; an emergency rollback (verify's) still passes")


def through_freeze(env_repo: EnvironmentRepo, target: DeploymentRecord, *, emergency: bool
                   ) -> DeploymentRecord:
    """``target`` past a freeze of its environment: refused during one, unless an
    emergency rollback, whose reason then says it passed."""
    environment = target.environment
    if not emergency:
        refuse_frozen(env_repo, environment, f"{target.model} {target.version}")
        return target
    freeze = in_force(env_repo.freeze(environment), time.time())
    if freeze is None:
        return target
    passed = f"passed the freeze of {environment} ({freeze.reason})"
    return replace(target, reason=f"{target.reason}; {passed}" if target.reason else passed)


def _message(env: str, freeze: Freeze | None, by: str) -> str:
    if freeze is not None:
        until = f" until {freeze.until}" if freeze.until else ""
        subject = f"chore: freeze {env}{until}"
        body = freeze.reason + "\n\n"
    else:
        subject, body = f"chore: unfreeze {env}", ""
    return subject + "\n\n" + body + trailers({
        "Action": "freeze" if freeze else "unfreeze", "Environment": env, "By": by,
        "Reason": freeze.reason if freeze else None,
        "Until": freeze.until if freeze else None}) + "\n"


def set_freeze(forge: Forge, env: EnvironmentConfig, *, frozen: bool, reason: str = "",
               until: str | None = None, now: float | None = None) -> FreezeResult:
    """Freeze ``env`` (``frozen``) or lift its freeze, through a merged pull request."""
    user = require_writer(forge, env, f"{'freeze' if frozen else 'unfreeze'} {env.name}")
    at = time.time() if now is None else now
    wanted = Freeze(env.name, reason or "frozen by hand", user, iso(at),
                    parse_until(until, at) if until else None) if frozen else None

    def build(repo: GitRepo, base: str) -> str | None:
        current = read_freeze(repo, base, env.name)
        if (current is None and wanted is None) or (
                current is not None and wanted is not None and
                (current.reason, current.until) == (wanted.reason, wanted.until)):
            return None
        return repo.commit_files(base, {FREEZE_PATH: freeze_content(wanted)},
                                 _message(env.name, wanted, user), env=commit_identity(user))

    message = _message(env.name, wanted, user)
    title = message.splitlines()[0]
    body = (f"{title[len('chore: '):].capitalize()}.\n\n" +
            (f"Reason: {wanted.reason}\n\n" if wanted else "") +
            f"By {user}. During a freeze `promote`, `rollback` and `ci release` are refused; "
            "emergency rollbacks pass.")
    repo = EnvironmentRepo(forge, env.repo)
    try:
        repo.create_if_missing(env.name)
        number = FileChange(repo, env, branch=f"{'freeze' if frozen else 'unfreeze'}/"
                            f"{env.name}", build=build, title=title, body=body).land()
        current = repo.freeze(env.name) if number is None else wanted
    finally:
        repo.close()
    return FreezeResult(env.name, frozen, changed=number is not None,
                        freeze=current if frozen else None, pull_request=number)
