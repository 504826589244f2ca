"""Ray is imported only when a stage is handed to it (compute.backend: ray)."""

from __future__ import annotations

import subprocess
import sys


def test_cli_and_ci_pr_load_without_ray() -> None:
    code = ("import sys, jx_mlops.cli.main, jx_mlops.ci.pr, jx_mlops.ci.handoff, "
            "jx_mlops.compute.ray; print(sorted(m for m in sys.modules "
            "if m == 'ray' or m.startswith('ray.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
