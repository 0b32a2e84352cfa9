"""Errors the CLI reports as a message without a traceback."""


class UsageError(RuntimeError):
    """Bad input from the user (flags, settings, state directory): exit status 2."""
