"""The one exception type the lab raises for problems a user can act on."""


class LabError(Exception):
    """A user-facing lab failure; the CLI prints it as one line and exits non-zero."""
