"""Every command is named for an event: what a caller is told it did, and what a
repeated idempotency key must have recorded."""

from __future__ import annotations

from typing import get_args

from domain import case_commands as cc
from domain import commands as c
from domain.command_events import NAMED_EVENTS
from domain.serialization import TYPE_NAMES


def test_every_command_is_named_for_an_event_the_log_knows() -> None:
    commands = {*get_args(c.Command), *get_args(cc.PromotionWorkflowCommand)}
    assert set(NAMED_EVENTS) == commands
    for command, named in NAMED_EVENTS.items():
        assert named, command
        assert all(event in TYPE_NAMES for event in named), command
