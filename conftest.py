"""The repository's pytest wiring lives in the harness package: options, fixtures, the
suites' order and the run's report (harness/plugin.py)."""

pytest_plugins = ("harness.plugin",)
