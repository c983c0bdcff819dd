"""Hearing what services announce on commit, as the realtime layer would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agent_workspace.services import events


class Announced(list):
    """Every change published on commit while hearing (or since ``take``)."""

    def take(self) -> list:
        taken = list(self)
        self.clear()
        return taken


@contextmanager
def hearing() -> Iterator[Announced]:
    heard = Announced()
    previous = events._publisher
    events.set_publisher(heard.extend)
    try:
        yield heard
    finally:
        events.set_publisher(previous)
