"""Errors a user can act on. Anything else reaching the CLI is a bug."""

from __future__ import annotations


class NeedsmapError(ValueError):
    """Base class: the CLI prints the message as one line and exits with code 2."""


class InputError(NeedsmapError):
    """An input file or value is wrong; the message says which and how to fix it."""


class ConfigError(NeedsmapError):
    """The configuration has an unknown key or a value out of range."""


class RepairWarning(UserWarning):
    """An input was repaired safely (spaces, case, a ward name, an encoding).

    ``needsmap run`` records each one in ``run.json`` notes and prints it as a note.
    """
