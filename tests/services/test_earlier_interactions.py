"""Earlier interactions are found by the email the customer typed, which anyone can
type: only those from the same browser say what they were about (issue 17)."""

from __future__ import annotations

from sqlmodel import Session

from agent_workspace.services import views
from tests.factories import make_customer, make_interaction


def _chat(session: Session, queue, *, email: str, summary: str, browser: str | None):
    item = make_interaction(
        session,
        queue=queue,
        customer=make_customer(session, name="Victim Person", email=email),
        short_description=summary,
    )
    item.browser_hash = views.browser_hash(browser) if browser else None
    session.commit()
    return item


def test_earlier_chats_from_another_browser_show_only_number_and_date(session: Session, queue) -> None:
    victim_browser, attacker_browser = views.new_browser_key(), views.new_browser_key()
    earlier = _chat(
        session, queue, email="victim@example.com", summary="Refund to IBAN DE89 3704", browser=victim_browser
    )
    legacy = _chat(session, queue, email="victim@example.com", summary="Password reset for Victim", browser=None)
    now = _chat(session, queue, email="victim@example.com", summary="", browser=attacker_browser)

    lines = views.interaction_data(session, now).earlier_interactions

    assert sorted(lines, key=lambda e: e.number) == sorted(
        (
            views.EarlierInteraction(item.number, f"{item.requested_at:%Y-%m-%d} · {views.UNVERIFIED}", verified=False)
            for item in (earlier, legacy)
        ),
        key=lambda e: e.number,
    )
    assert not any("Refund" in e.text or "Password" in e.text or "Victim" in e.text for e in lines)


def test_earlier_chats_from_the_same_browser_show_what_they_were_about(session: Session, queue) -> None:
    browser = views.new_browser_key()
    earlier = _chat(session, queue, email="ada@example.com", summary="Invoice shows the wrong amount", browser=browser)
    now = _chat(session, queue, email="ada@example.com", summary="", browser=browser)

    assert views.interaction_data(session, now).earlier_interactions == [
        views.EarlierInteraction(
            earlier.number, f"Invoice shows the wrong amount · {earlier.requested_at:%Y-%m-%d}", verified=True
        )
    ]


def test_a_chat_without_a_browser_id_verifies_nothing(session: Session, queue) -> None:
    _chat(session, queue, email="ada@example.com", summary="Old chat", browser=None)
    now = _chat(session, queue, email="ada@example.com", summary="", browser=None)
    earlier = views.interaction_data(session, now).earlier_interactions[0]
    assert not earlier.verified and earlier.text.endswith(views.UNVERIFIED)


def test_only_ids_the_page_issues_count_as_a_browser() -> None:
    key = views.new_browser_key()
    assert views.browser_hash(key) is not None and len(views.browser_hash(key)) == 64
    for forged in ("", "short", "x" * 33, "é" * 32, "a" * 31 + "!", "\x00" * 32):
        assert views.browser_hash(forged) is None
