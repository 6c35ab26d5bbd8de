"""Errors of the diff engine; their messages are meant for a person (what is wrong, what to do)."""

from __future__ import annotations


class DiffError(RuntimeError):
    """The diff could not run (connection, missing table, a query the server refused)."""
