"""Fixtures most service tests start from (each test gets its own database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from agent_workspace.services.email import SmtpSettings
from tests.factories import make_customer, make_interaction, make_queue, make_user
from tests.services.helpers import OFFER_SECONDS
from tests.services.mail_helpers import Inbox, serve


@pytest.fixture
def queue(session: Session):
    return make_queue(session, "General")


@pytest.fixture
def other_queue(session: Session):
    return make_queue(session, "Billing")


@pytest.fixture
def offer_timeout(monkeypatch: pytest.MonkeyPatch) -> int:
    """Offers lapse after OFFER_SECONDS (routing tests move the clock past it)."""
    monkeypatch.setenv("AW_OFFER_TIMEOUT_SECONDS", str(OFFER_SECONDS))
    return OFFER_SECONDS


# ---------------------------------------------------------------- email (test_email, test_outbox, test_left_messages)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, SmtpSettings]]:
    """A real SMTP server on localhost that keeps what it receives."""
    inbox = Inbox()
    controller, smtp = serve(inbox)
    try:
        yield inbox, smtp
    finally:
        controller.stop()


@pytest.fixture
def agent(session: Session):
    """The agent who writes the emails (modules with an agent of their own override it)."""
    return make_user(session, "grace", display_name="Grace Hopper")


@pytest.fixture
def chat(session: Session, agent):
    """The agent's chat with Ada, the email's recipient."""
    return make_interaction(session, queue=make_queue(session), customer=make_customer(session), agent=agent)
