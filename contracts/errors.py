"""Errors that end a run before it starts: exit status 2, with a message saying what to fix."""


class UsageError(Exception):
    """Bad options or an unusable spec."""
