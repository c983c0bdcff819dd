"""Which queues the public page offers: a hidden queue is not listed and takes no chat from it."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select

from agent_workspace.migrations import alembic_config
from agent_workspace.models import AuditLog, Interaction
from agent_workspace.services import audit_words, queue_visibility
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.events import QueueChanged
from tests.factories import make_queue
from tests.services.helpers import count, make_agent, start


def test_a_hidden_queue_is_not_listed_and_refuses_a_chat(session: Session, queue, other_queue) -> None:
    assert [q.name for q in queue_visibility.public_queues(session)] == ["Billing", "General"]
    assert queue_visibility.set_public(session, queue_id=queue.id, public=False, actor_id=None)
    assert [q.name for q in queue_visibility.public_queues(session)] == ["Billing"]
    with pytest.raises(ValidationError, match="not offered here"):
        start(session, queue)
    session.rollback()
    assert count(session, Interaction) == 0
    assert start(session, other_queue).queue_id == other_queue.id


def test_showing_again_is_audited_in_words_and_announced(session: Session, queue, announced) -> None:
    lead = make_agent(session, "ann_agent", queues=[queue])
    queue_visibility.set_public(session, queue_id=queue.id, public=False, actor_id=lead.id)
    assert announced.take() == [QueueChanged(queue.id)]
    assert not queue_visibility.set_public(session, queue_id=queue.id, public=False, actor_id=lead.id)  # no change
    queue_visibility.set_public(session, queue_id=queue.id, public=True, actor_id=lead.id)
    entries = list(session.exec(select(AuditLog).where(AuditLog.target_kind == "queue").order_by(col(AuditLog.id))))
    assert [line.text for line in audit_words.describe(session, entries, here=None)][-2:] == [
        "Ann Agent hid the queue General from the public chat page",
        "Ann Agent listed the queue General on the public chat page",
    ]


def test_an_unknown_queue_is_refused(session: Session) -> None:
    make_queue(session, "General")
    with pytest.raises(NotFound):
        queue_visibility.set_public(session, queue_id=999, public=False, actor_id=None)


def test_queues_stored_before_the_switch_stay_on_the_public_page(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0013")
    engine = create_engine(url)
    with engine.begin() as connection:  # raw SQL: the model has the new column
        connection.execute(text("INSERT INTO queue (name, description, active) VALUES ('General', '', 1)"))
    command.upgrade(alembic_config(url), "head")
    with Session(engine) as session:
        assert [q.name for q in queue_visibility.public_queues(session)] == ["General"]
    engine.dispose()
