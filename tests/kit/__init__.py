"""The test suite's helpers, imported by tests as ``kit.<module>`` (tests/ is on sys.path).

Running the tools: hermetic (the environment every test runs in), git, dvc, gto, cli.
Workspaces: workspace (copies of the session's trained project), lab (a synthetic project
for registry and promotion tests, no `dvc repro`), holdout (a sealed holdout added to a
project), quickstart_sources (a tiny quickstart), getstarted (DVC's get-started layout),
local_forge (branches pushed to the local forge). GitHub: github (fixtures and helpers),
github_events (Actions payloads and job environments), github_server (the loopback
server). Also prometheus (a real Prometheus), config (mlops.yaml text parsed), snapshot
(snapshot assertions) and strategies (hypothesis strategies).

Fixtures are defined in tests/conftest.py and in the plugin modules it names (github,
prometheus); tests import nothing from conftest or from other test modules.
"""
