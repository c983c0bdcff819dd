"""A real SMTP server for the email tests (aiosmtpd on localhost) and the steps they share."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from agent_workspace import mailer
from agent_workspace.models import AuditLog, OutgoingEmail
from agent_workspace.services import email as email_service
from agent_workspace.services.email import SmtpSettings
from tests.announced import hearing


class Inbox:
    """An aiosmtpd handler that keeps what it receives; ``answers`` (consumed in turn) refuse instead."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.envelopes = []
        self.answers = list(answers or [])
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        self.envelopes.append(envelope)
        self.received.set()
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(envelope.content.replace(b"\r\n", b"\n"), policy=email.policy.default)
            for envelope in self.envelopes
        ]


class HeldInbox(Inbox):
    """A slow mail server: it holds each message until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.entered.set()
        await asyncio.to_thread(self.release.wait)
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(handler: Inbox, **options) -> tuple[Controller, SmtpSettings]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller, SmtpSettings(host="127.0.0.1", port=controller.port, mail_from="help@example.org")


def send(session: Session, chat, agent, **overrides) -> OutgoingEmail:
    fields = {
        "to_address": "ada@example.com",
        "subject": f"Your support chat {chat.number}",
        "body": "Hello Ada,\n\nThe refund is on its way.",
    } | overrides
    return email_service.send_email(session, interaction_id=chat.id, created_by_id=agent.id, **fields)


def work(session: Session, smtp: SmtpSettings, *, at=None) -> list:
    """One pass of the delivery worker, as the app runs it; the test's session holds
    no lock meanwhile. Returns what the pass announced on commit."""
    session.commit()
    with hearing() as heard:
        asyncio.run(mailer.deliver_due(smtp, now=at))
    session.expire_all()
    return heard


def audit_actions(session: Session) -> list[str]:
    return [entry.action for entry in session.exec(select(AuditLog).order_by(AuditLog.id))]
