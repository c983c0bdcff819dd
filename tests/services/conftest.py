"""Queues most service tests start from (each test gets its own database)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.factories import make_queue


@pytest.fixture
def queue(session: Session):
    return make_queue(session, "General")


@pytest.fixture
def other_queue(session: Session):
    return make_queue(session, "Billing")
