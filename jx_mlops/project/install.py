"""How a generated project's CI installs jx-mlops: as the GitHub Action does, from the
jx-mlops source at the version that generated the project, never by a bare package name
(no package index serves ``jx-mlops``).

The GitHub workflows pin the action (``uses: jx-mlops/jx-mlops@vX.Y.Z``, whose checkout
is installed); the Jenkins X (JayeX) pipelines and the project's README install
``jx-mlops @ git+https://github.com/jx-mlops/jx-mlops@vX.Y.Z`` with pip. Both are
configurable when a project is generated, by ``JX_MLOPS_SOURCE`` (a pip requirement: a
git URL, a path, a wheel, an index name where one serves it) and ``JX_MLOPS_ACTION`` (an
action reference, ``OWNER/REPO@REF``), and by editing the generated files afterwards.
"""

from __future__ import annotations

import os
import re

from jx_mlops import __version__
from jx_mlops.errors import UsageError
from jx_mlops.yamlio import cut

REPOSITORY = "https://github.com/jx-mlops/jx-mlops"
ACTION = "jx-mlops/jx-mlops"
# Characters a value may not hold: it lands inside double-quoted YAML and shell strings.
_UNSAFE = re.compile(r"[\"'`$\\\s]")
_ACTION_REF = re.compile(r"^(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[A-Za-z0-9_./-]+|\./[\w./-]*)$")


def jx_mlops_source() -> str:
    """The pip requirement CI installs jx-mlops from (``JX_MLOPS_SOURCE``, else this
    version's tag of the jx-mlops repository)."""
    given = os.environ.get("JX_MLOPS_SOURCE", "").strip()
    if not given:
        return f"jx-mlops @ git+{REPOSITORY}@v{__version__}"
    if _UNSAFE.search(given.replace(" @ ", "@", 1)):
        raise UsageError(f"JX_MLOPS_SOURCE {cut(given)}: a pip requirement without quotes, "
                         "spaces (but ' @ '), '$' or backslashes, e.g. "
                         f"'jx-mlops @ git+{REPOSITORY}@v{__version__}'")
    return given


def jx_mlops_action() -> str:
    """The action the GitHub workflows use (``JX_MLOPS_ACTION``, else this version's)."""
    given = os.environ.get("JX_MLOPS_ACTION", "").strip()
    if not given:
        return f"{ACTION}@v{__version__}"
    if not _ACTION_REF.match(given):
        raise UsageError(f"JX_MLOPS_ACTION {cut(given)}: expected OWNER/REPO@REF (or a "
                         f"./path in the repository), e.g. {ACTION}@v{__version__}")
    return given


def install_values() -> dict[str, str]:
    """The template variables the CI files and the README use to install jx-mlops."""
    return {"jx_mlops_source": jx_mlops_source(), "jx_mlops_action": jx_mlops_action()}
