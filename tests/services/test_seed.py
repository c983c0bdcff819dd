"""Demo data: only into an empty database, with the documented users, queues and articles."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from agent_workspace.models import (
    AuthSession,
    Interaction,
    KnowledgeArticle,
    Presence,
    Queue,
    QueueMember,
    Role,
    User,
)
from agent_workspace.services import auth, conversations, seed
from tests.factories import BROWSER
from tests.services.helpers import count

EXPECTED_USERS = {
    # username: (display name, roles, capacity, queues)
    "alice": ("Alice Martin", {"workspace_user"}, 4, {"General Support", "Billing", "Technical Support"}),
    "bob": ("Bob Chen", {"workspace_user"}, 4, {"General Support", "Technical Support"}),
    "carol": ("Carol Diaz", {"workspace_user"}, 4, {"Billing", "General Support"}),
    "dan": ("Dan Okafor", {"workspace_user"}, 2, {"Technical Support"}),
    "sam": ("Sam Patel", {"workspace_user", "supervisor"}, 4, {"General Support", "Billing", "Technical Support"}),
    "nora": ("Nora Quinn", set(), 4, set()),
}


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", fast)


def article_lines() -> list[dict]:
    return [json.loads(line) for line in seed.SEED_ARTICLES.read_text(encoding="utf-8").splitlines() if line.strip()]


def queue_names_of(session: Session, user: User) -> set[str]:
    return set(
        session.exec(
            select(Queue.name).join(QueueMember, QueueMember.queue_id == Queue.id).where(QueueMember.user_id == user.id)
        )
    )


def test_seed_fills_an_empty_database(session: Session) -> None:
    assert seed.is_empty(session)

    assert seed.seed_demo(session) is True

    assert not seed.is_empty(session)
    queues = {q.name: q for q in session.exec(select(Queue))}
    assert set(queues) == {"General Support", "Billing", "Technical Support"}
    assert all(q.active and q.description for q in queues.values())
    users = {u.username: u for u in session.exec(select(User))}
    assert set(users) == set(EXPECTED_USERS)
    for username, (display, roles, capacity, queue_names) in EXPECTED_USERS.items():
        user = users[username]
        assert user.display_name == display
        assert auth.roles_of(user) == roles, username
        assert user.capacity == capacity, username
        assert queue_names_of(session, user) == queue_names, username
        assert user.email == f"{username}@agent-workspace.local"
        assert user.active and user.presence == Presence.OFFLINE
        assert user.password_hash.startswith("$argon2id$")


def test_seed_has_the_documented_special_users(session: Session) -> None:
    seed.seed_demo(session)
    users = list(session.exec(select(User)))
    without_role = [u.username for u in users if Role.WORKSPACE_USER not in auth.roles_of(u)]
    assert without_role == ["nora"]
    assert [u.username for u in users if u.capacity == 2] == ["dan"]
    assert [u.username for u in users if Role.SUPERVISOR in auth.roles_of(u)] == ["sam"]


def test_demo_logins_work_with_the_documented_passwords(session: Session) -> None:
    seed.seed_demo(session)
    logins = seed.demo_logins()
    assert [d.username for d in logins] == list(EXPECTED_USERS)
    assert {d.username: d.roles for d in logins}["nora"] == "(none)"
    for demo in logins:
        ticket, principal = auth.login(session, username=demo.username, password=demo.password)
        assert principal.username == demo.username
        assert principal.roles == EXPECTED_USERS[demo.username][1]
        token = auth.redeem_ticket(session, ticket=ticket, client=BROWSER)
        assert auth.principal_for_token(session, token, client=BROWSER).username == demo.username
    assert count(session, AuthSession) == len(logins)


def test_seed_imports_the_knowledge_articles(session: Session) -> None:
    lines = article_lines()
    assert len(lines) >= 40

    seed.seed_demo(session)

    articles = {a.number: a for a in session.exec(select(KnowledgeArticle))}
    assert len(articles) == len(lines) >= 40
    for line in lines:
        article = articles[line["number"]]
        assert article.title == line["title"]
        assert article.category == line.get("category", "General")
        assert article.published == line.get("published", True)
        assert article.body.strip()
    assert "KB0010001" in articles


def test_seed_without_articles(session: Session) -> None:
    assert seed.seed_demo(session, articles=None) is True
    assert count(session, KnowledgeArticle) == 0
    assert count(session, User) == len(EXPECTED_USERS)


def test_a_second_seed_keeps_everything(session: Session) -> None:
    seed.seed_demo(session)
    billing = session.exec(select(Queue).where(Queue.name == "Billing")).one()
    chat = conversations.start_chat(
        session, name="Ada", email="ada@example.com", queue_id=billing.id, question="Refund?"
    )
    auth.set_password(session, username="alice", password="changed by alice")
    before = {model: count(session, model) for model in (User, Queue, QueueMember, KnowledgeArticle, Interaction)}

    assert seed.seed_demo(session) is False

    after = {model: count(session, model) for model in before}
    assert after == before
    assert session.get(Interaction, chat.id) is not None
    assert auth.login(session, username="alice", password="changed by alice")[0]


def test_seed_refuses_a_database_that_has_any_user(session: Session) -> None:
    auth.create_user(session, username="admin", password="admin password", roles=["admin"])

    assert seed.seed_demo(session) is False

    assert count(session, Queue) == 0
    assert count(session, KnowledgeArticle) == 0
    assert [u.username for u in session.exec(select(User))] == ["admin"]
