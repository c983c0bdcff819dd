"""The launcher's public availability route: sized and counted before any work,
readable by the named host sites only, one read for every launcher."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from agent_workspace import widget_api
from agent_workspace.services import budgets, queue_visibility
from agent_workspace.services.budgets import ALLOWANCES, Budget
from tests.factories import make_queue
from tests.services.helpers import make_agent

HOST = "https://shop.example.com"
PATH = "/api/widget/availability"


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    monkeypatch.setattr(widget_api, "HOST_ORIGINS", frozenset([HOST]))
    monkeypatch.setattr(widget_api, "_launcher_reads", (float("-inf"), {}, {}))
    monkeypatch.setattr(widget_api, "_refreshing", asyncio.Lock())
    budgets.reset()
    yield
    budgets.reset()


def _client() -> httpx.AsyncClient:
    app = Starlette(routes=[Route(PATH, widget_api.launcher_availability, methods=["GET"])])
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 5000)), base_url="http://test"
    )


def _page() -> str:
    return str(uuid.uuid4())


async def test_a_launcher_hears_its_queues_availability_in_words(session):
    billing = make_queue(session, "Billing")
    make_agent(session, "ann", queues=[billing])
    empty = make_queue(session, "Returns")
    async with _client() as client:
        free = await client.get(
            PATH, params={"queue": billing.id, "tz": "Europe/Paris", "page": _page()}, headers={"Origin": HOST}
        )
        nobody = await client.get(PATH, params={"queue": empty.id, "page": _page()})
        every = await client.get(PATH, params={"page": _page()})
    assert free.status_code == 200
    assert free.json() == {"status": "available", "text": "An agent is available now."}
    assert free.headers["access-control-allow-origin"] == HOST
    assert free.headers["cache-control"] == "public, max-age=5"
    assert nobody.json() == {
        "status": "nobody",
        "text": "Nobody from Returns is available right now. Leave us a message.",
    }
    assert "access-control-allow-origin" not in nobody.headers  # no Origin named: nobody else reads it
    assert every.json()["status"] == "available"  # every queue: the best one


async def test_another_site_cannot_read_it_and_an_unknown_queue_is_not_found(session):
    queue = make_queue(session, "Billing")
    async with _client() as client:
        other = await client.get(
            PATH, params={"queue": queue.id, "page": _page()}, headers={"Origin": "https://evil.example"}
        )
        missing = await client.get(PATH, params={"queue": queue.id + 1000, "page": _page()})
        bad = await client.get(PATH, params={"queue": "1 OR 1=1", "page": _page()})
        arabic_digits = await client.get(PATH, params={"queue": "\u0661", "page": _page()})  # "١" is decimal, not ASCII
    assert "access-control-allow-origin" not in other.headers
    assert missing.status_code == 404
    assert bad.status_code == 400
    assert arabic_digits.status_code == 400


async def test_oversized_or_unnamed_requests_are_refused_before_any_read(session, monkeypatch):
    make_queue(session, "Billing")

    async def no_read():
        raise AssertionError("read the database for a refused request")

    monkeypatch.setattr(widget_api, "_queues", no_read)
    async with _client() as client:
        long = await client.get(PATH, params={"page": _page(), "tz": "x" * 300})
        body = await client.request("GET", PATH, params={"page": _page()}, content=b"x" * 10)
        unnamed = await client.get(PATH)
        made_up = await client.get(PATH, params={"page": "<script>"})
    assert long.status_code == 413 and body.status_code == 413
    assert unnamed.status_code == 400 and made_up.status_code == 400


async def test_a_launcher_spends_its_budget_and_an_address_its_own(session):
    queue = make_queue(session, "Billing")
    per_page = ALLOWANCES[Budget.LAUNCHER].per_tab
    page = _page()
    async with _client() as client:
        answers = [
            (await client.get(PATH, params={"queue": queue.id, "page": page})).status_code for _ in range(per_page + 1)
        ]
        another = await client.get(PATH, params={"queue": queue.id, "page": _page()})
    assert answers == [200] * per_page + [429]
    assert another.status_code == 200  # another page of the same address has its own


async def test_every_launcher_shares_one_read(session, monkeypatch):
    queue = make_queue(session, "Billing")
    reads = []
    real = widget_api._read_queues
    monkeypatch.setattr(widget_api, "_read_queues", lambda s: reads.append(1) or real(s))
    async with _client() as client:
        for _ in range(5):
            assert (await client.get(PATH, params={"queue": queue.id, "page": _page()})).status_code == 200
    assert reads == [1]


async def test_requests_arriving_together_when_the_read_is_stale_make_one_read(session, monkeypatch):
    queue = make_queue(session, "Billing")
    reads = []

    async def slow_read(fn):
        reads.append(1)
        await asyncio.sleep(0.05)  # the others arrive while this one reads
        return fn(session)

    monkeypatch.setattr(widget_api, "run_query", slow_read)
    async with _client() as client:
        answers = await asyncio.gather(
            *(client.get(PATH, params={"queue": queue.id, "page": _page()}) for _ in range(8))
        )
    assert [a.status_code for a in answers] == [200] * 8
    assert reads == [1]
    monkeypatch.setattr(
        widget_api,
        "_launcher_reads",
        (time.monotonic() - widget_api.LAUNCHER_CACHE_SECONDS, *widget_api._launcher_reads[1:]),
    )
    async with _client() as client:
        await asyncio.gather(*(client.get(PATH, params={"queue": queue.id, "page": _page()}) for _ in range(8)))
    assert reads == [1, 1]  # expired: read once more, not once per request


async def test_the_allowed_host_sites_are_read_once_not_per_request(session, monkeypatch):
    queue = make_queue(session, "Billing")
    monkeypatch.setattr(widget_api, "widget_origins", lambda: pytest.fail("parsed AW_WIDGET_ORIGINS for a request"))
    async with _client() as client:
        answer = await client.get(PATH, params={"queue": queue.id, "page": _page()}, headers={"Origin": HOST})
    assert answer.headers["access-control-allow-origin"] == HOST


async def test_a_queue_hidden_from_the_public_page_has_no_launcher(session):
    shown, hidden = make_queue(session, "Billing"), make_queue(session, "Internal")
    make_agent(session, "ann", queues=[hidden])  # only the hidden queue has someone free
    queue_visibility.set_public(session, queue_id=hidden.id, public=False, actor_id=None)
    async with _client() as client:
        refused = await client.get(PATH, params={"queue": hidden.id, "page": _page()})
        listed = await client.get(PATH, params={"queue": shown.id, "page": _page()})
        every = await client.get(PATH, params={"page": _page()})
    assert refused.status_code == 404
    assert listed.status_code == 200
    assert every.json()["status"] != "available"  # the hidden queue's free agent is not offered
