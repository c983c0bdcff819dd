"""A supervisor closes a queue with business hours; bad input is refused and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlmodel import func, select

from agent_workspace.models import AuditLog, Queue
from agent_workspace.services.hours import DAY_NAMES
from tests.e2e.conftest import sign_in


def _stored(world, name: str) -> tuple:
    with world.session() as session:
        queue = session.exec(select(Queue).where(Queue.name == name)).one()
        audits = session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "queue.hours_changed", AuditLog.target_id == queue.id)
        ).one()
        return queue.weekly_hours, queue.time_zone, queue.closures, queue.closed_message, audits


def test_supervisor_closes_a_queue_and_a_bad_time_zone_changes_nothing(app_server, world, new_context):
    base = app_server.base_url
    queue = world.queue("Hours")
    page = new_context().new_page()
    sign_in(page, base, "sam", "sam-demo-pass")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.goto(f"{base}/supervisor")
    status = (
        page.get_by_role("table", name="Queues today")
        .get_by_role("row")
        .filter(has_text=queue)
        .get_by_role("cell")
        .last
    )
    expect(status).to_have_text("Open")

    form = page.get_by_role("group", name=queue)
    expect(form).to_contain_text("Open around the clock")
    today = datetime.now(UTC).date()  # the queue's zone is UTC
    form.get_by_label("Closures").fill(
        f"{today}, {today + timedelta(days=1)}"
    )  # still closed if the day turns meanwhile
    form.get_by_label("Out-of-hours message").fill("Closed for stocktaking.")
    form.get_by_role("button", name=f"Save hours for {queue}").click()
    reopens = today + timedelta(days=2)
    expect(status).to_have_text(f"Closed (opens {DAY_NAMES[reopens.weekday()]} 00:00 UTC)")
    expect(form).to_contain_text(f"closed {today}–{today + timedelta(days=1)}")
    saved = ("", "UTC", f"{today}..{today + timedelta(days=1)}", "Closed for stocktaking.", 1)
    assert _stored(world, queue) == saved

    form.get_by_label("Weekly hours").fill("Mon-Fri 09:00-17:00")
    form.get_by_label("Time zone").fill("Mars/Olympus")
    form.get_by_role("button", name=f"Save hours for {queue}").click()
    expect(form.get_by_role("alert")).to_contain_text('Time zone: "Mars/Olympus" is not a known time zone')
    assert _stored(world, queue) == saved
    expect(status).to_have_text(f"Closed (opens {DAY_NAMES[reopens.weekday()]} 00:00 UTC)")
