"""The test suite's helpers, imported by tests as ``kit.<module>`` (tests/ is on sys.path).

hermetic: the environment every test runs in; git, dvc, cli: running the tools; workspace:
copies of the session's trained project; lab: a synthetic project for registry and
promotion tests; config: parsing mlops.yaml text; github, github_events, github_server:
the loopback GitHub; prometheus: a real Prometheus; getstarted: DVC's get-started layout;
snapshot: snapshot assertions. Fixtures are in tests/conftest.py and in the plugin
modules it names (github, prometheus).
"""
