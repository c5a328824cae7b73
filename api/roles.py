"""The callers' roles and the longest subject a token may name: plain values that the CLI
reads without loading the token machinery (``api.auth``)."""

from __future__ import annotations

import enum

MAX_SUBJECT = 200
"""Longest ``sub`` accepted: the subject is recorded as each event's actor."""


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"
    AUDITOR = "auditor"
