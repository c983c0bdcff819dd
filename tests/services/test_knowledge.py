"""Knowledge base: typo-tolerant search, the index lifecycle, CRUD, import and export."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, delete, select

from agent_workspace.models import KnowledgeArticle
from agent_workspace.services import knowledge
from agent_workspace.services.errors import NotFound, ValidationError
from agent_workspace.services.knowledge import KnowledgeIndex, normalize

SEED_FILE = knowledge.SEED_ARTICLES_FILE


@pytest.fixture
def seeded(session: Session) -> Session:
    report = knowledge.import_jsonl(session, SEED_FILE)
    assert report.errors == [] and report.created >= 45
    return session


def seed_articles() -> list[KnowledgeArticle]:
    articles = []
    for line in SEED_FILE.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        articles.append(KnowledgeArticle(**{**item, "tags": ",".join(item["tags"])}))
    return articles


@pytest.fixture(scope="module")
def seed_index() -> KnowledgeIndex:
    """The seed articles indexed without a database: shared by the read-only search tests."""
    return KnowledgeIndex.from_articles(seed_articles())


def top_titles(index: KnowledgeIndex, query: str, count: int = 3) -> list[str]:
    return [hit.title for hit in index.search(query, limit=count)]


def write_lines(path: Path, *lines: object) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


# ----- normalization ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Won't  CONNECT—Café!", "wont connect cafe"),
        ("Über-naïve   résumé", "uber naive resume"),
        ("snake_case/path\\to", "snake case path to"),
        ("日本語 テスト 🎉", "日本語 テスト"),
        ("  \t\n ", ""),
    ],
)
def test_normalize_folds_case_accents_and_punctuation(text: str, expected: str) -> None:
    assert normalize(text) == expected


# ----- search quality -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected_title"),
    [
        ("pasword reest", "Reset a forgotten password"),
        ("vnp not conecting", "VPN not connecting"),
        ("outlok wont sync", "Outlook not syncing or showing disconnected"),
        ("refnud my order", "Request a refund"),
        ("printer ofline", "Printer shows offline"),
        ("acount lokced out", "Account locked after too many sign-in attempts"),
        ("cancle my subscripton", "Cancel a subscription"),
        ("emial not syncing on iphone", "Email not syncing on a phone"),
        ("teams microphne not working", "Teams or video call: no audio or microphone not working"),
        ("phising emial", "Report a phishing email"),
        ("dockng staton monitor no signal", "External monitor or docking station not working"),
        ("lost phone authenticater app", "Lost or replaced phone: recover MFA access"),
        ("bitlocker recovry key", "BitLocker recovery key requested at startup"),
        ("wifi no internt", "Wi-Fi connected but no internet"),
        ("gdpr delete my data", "Data privacy request (GDPR access or deletion)"),
    ],
)
def test_misspelled_queries_find_the_right_article(seed_index: KnowledgeIndex, query: str, expected_title: str) -> None:
    assert expected_title in top_titles(seed_index, query)


@pytest.mark.parametrize(
    ("query", "shuffled"),
    [
        ("reset password", "password reset"),
        ("vpn not connecting", "connecting not vpn"),
        ("printer driver install", "install driver printer"),
    ],
)
def test_word_order_does_not_matter(seed_index: KnowledgeIndex, query: str, shuffled: str) -> None:
    assert top_titles(seed_index, query, 1) == top_titles(seed_index, shuffled, 1)


def test_a_term_in_the_title_beats_the_same_term_in_the_body() -> None:
    filler = "Steps and notes for agents handling this kind of request. " * 5
    index = KnowledgeIndex.from_articles(
        [
            KnowledgeArticle(
                number="KB0010001",
                title="Meeting room booking",
                category="Facilities",
                tags="",
                published=True,
                body=filler + "Ask reception if the projector fails.",
            ),
            KnowledgeArticle(
                number="KB0010002",
                title="Projector shows no picture",
                category="Hardware",
                tags="",
                published=True,
                body=filler,
            ),
        ]
    )
    assert [hit.number for hit in index.search("projector")] == ["KB0010002", "KB0010001"]


def test_exact_article_number_comes_first(seed_index: KnowledgeIndex) -> None:
    assert seed_index.search("kb0010007")[0].number == "KB0010007"


def test_hits_carry_a_score_and_a_highlighted_plain_text_snippet(seed_index: KnowledgeIndex) -> None:
    hit = seed_index.search("pasword reest")[0]
    assert 0 < hit.score <= 100
    assert hit.category == "Accounts & Access"
    highlighted = [text.lower() for text, is_highlighted in hit.snippet_parts if is_highlighted]
    assert "password" in highlighted
    snippet = "".join(text for text, _ in hit.snippet_parts)
    assert "##" not in snippet and "**" not in snippet and "<" not in snippet
    assert len(snippet.split()) <= knowledge.SNIPPET_WORDS + 2


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "🎉🎉", "!!!"])
def test_blank_queries_return_nothing(seed_index: KnowledgeIndex, query: str) -> None:
    assert seed_index.search(query) == []


def test_a_huge_query_is_truncated_not_fatal(seed_index: KnowledgeIndex) -> None:
    assert "Reset a forgotten password" in top_titles(seed_index, "password reset " * 700)
    assert isinstance(seed_index.search("x" * 10_000), list)


@pytest.mark.parametrize("query", ["café wifi", "über passwörd", "日本語", "пароль", "🎉 vpn 🎉", "\u0000\ufffd"])
def test_non_ascii_queries_do_not_crash(seed_index: KnowledgeIndex, query: str) -> None:
    assert isinstance(seed_index.search(query), list)


def test_accented_query_matches_unaccented_article_and_back(seed_index: KnowledgeIndex) -> None:
    assert "Reset a forgotten password" in top_titles(seed_index, "pässwörd rését")
    index = KnowledgeIndex.from_articles(
        [
            KnowledgeArticle(
                number="KB0010001",
                title="Réinitialiser le mot de passe",
                category="Comptes",
                tags="",
                published=True,
                body="Ouvrez la page de réinitialisation.",
            )
        ]
    )
    assert top_titles(index, "reinitialiser mot de passe") == ["Réinitialiser le mot de passe"]


def test_limit_is_respected(seed_index: KnowledgeIndex) -> None:
    assert len(seed_index.search("account", limit=2)) == 2
    assert seed_index.search("account", limit=0) == []


# ----- index lifecycle ------------------------------------------------------------


def test_an_edit_reaches_an_index_built_elsewhere(seeded: Session, database_url: str) -> None:
    other_process_index = KnowledgeIndex.from_session(seeded)
    assert not other_process_index.refresh_if_changed(seeded)

    knowledge.upsert_article(
        seeded,
        number="KB0010001",
        title="Recover a lost passphrase",
        body="Use the recovery portal.",
        category="Accounts & Access",
        tags=["passphrase"],
    )
    seeded.commit()

    assert other_process_index.refresh_if_changed(seeded)
    assert top_titles(other_process_index, "lost pasphrase", 1) == ["Recover a lost passphrase"]
    assert "Reset a forgotten password" not in top_titles(other_process_index, "forgotten password", 5)
    assert top_titles(other_process_index, "lost pasphrase", 1) == [
        hit.title for hit in knowledge.search_articles("lost pasphrase", limit=1)
    ]


def test_search_articles_sees_new_articles_without_restart(seeded: Session) -> None:
    assert knowledge.search_articles("zebra") == []
    knowledge.upsert_article(seeded, title="Zebra label printer setup", body="Install the Zebra driver.")
    seeded.commit()
    assert [hit.title for hit in knowledge.search_articles("zebra")] == ["Zebra label printer setup"]


def test_deleted_articles_leave_the_index(seeded: Session) -> None:
    index = KnowledgeIndex.from_session(seeded)
    seeded.exec(delete(KnowledgeArticle).where(KnowledgeArticle.number == "KB0010007"))
    seeded.commit()
    assert index.refresh_if_changed(seeded)
    assert "VPN not connecting" not in top_titles(index, "vpn not connecting", 10)


def test_index_survives_concurrent_searches_and_updates() -> None:
    index = KnowledgeIndex.from_articles(seed_articles())
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            for _ in range(30):
                index.search("vnp not conecting")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def editor() -> None:
        try:
            for i in range(30):
                index.upsert(
                    KnowledgeArticle(
                        number=f"KB{20001 + i % 5:07d}",
                        title=f"VPN note {i}",
                        body="vpn gateway",
                        category="Network & VPN",
                        tags="",
                        published=True,
                    )
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=searcher) for _ in range(3)] + [threading.Thread(target=editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index) == 49 + 5
    assert index.search("vpn note")[0].title.startswith("VPN note")


def test_many_edits_compact_the_index_without_losing_articles() -> None:
    index = KnowledgeIndex.from_articles(seed_articles())
    for i in range(150):
        index.upsert(
            KnowledgeArticle(
                number="KB0010007",
                title=f"VPN not connecting (rev {i})",
                body="Reconnect the vpn.",
                category="Network & VPN",
                tags="vpn",
                published=True,
            )
        )
    assert len(index) == 49
    assert len(index._articles) < 49 + 150  # replaced slots were dropped
    assert top_titles(index, "vpn not connecting rev 149", 1) == ["VPN not connecting (rev 149)"]
    assert "VPN not connecting (rev 148)" not in top_titles(index, "vpn not connecting rev 148", 49)


# ----- published / unpublished ------------------------------------------------------


def test_unpublished_articles_stay_hidden(seeded: Session) -> None:
    knowledge.upsert_article(seeded, title="Draft: quantum router reboot", body="Not ready yet.", published=False)
    seeded.commit()
    draft = seeded.exec(select(KnowledgeArticle).where(KnowledgeArticle.published == False)).one()  # noqa: E712

    def numbers(hits: list[knowledge.SearchHit]) -> list[str]:
        return [hit.number for hit in hits]

    assert draft.number not in numbers(knowledge.search_articles("quantum router reboot"))
    assert knowledge.search_articles(draft.number) == []
    index = KnowledgeIndex.from_session(seeded)
    assert draft.number not in numbers(index.search("quantum router reboot"))
    assert numbers(index.search("quantum router reboot", published_only=False))[0] == draft.number
    with pytest.raises(NotFound):
        knowledge.get_article(seeded, draft.number)
    assert knowledge.get_article(seeded, draft.number, published_only=False).title.startswith("Draft")


def test_unpublishing_removes_an_article_from_search(seeded: Session) -> None:
    assert "Printer shows offline" in [h.title for h in knowledge.search_articles("printer offline")]
    article = knowledge.get_article(seeded, "KB0010016")
    knowledge.upsert_article(seeded, number=article.number, title=article.title, body=article.body, published=False)
    seeded.commit()
    assert "Printer shows offline" not in [h.title for h in knowledge.search_articles("printer offline")]


# ----- CRUD --------------------------------------------------------------------------


def test_upsert_allocates_numbers_and_updates_in_place(session: Session) -> None:
    first = knowledge.upsert_article(session, title="First", body="Body", tags=["a", "b,c", " a "])
    second = knowledge.upsert_article(session, title="Second", body="Body")
    session.commit()
    assert (first.number, second.number) == ("KB0010001", "KB0010002")
    assert first.tags == "a,b c" and first.category == "General"

    updated = knowledge.upsert_article(session, number="KB0010001", title="First, edited", body="New")
    session.commit()
    assert updated.id == first.id and knowledge.get_article(session, "KB0010001").title == "First, edited"
    chosen = knowledge.upsert_article(session, number="KB0099999", title="Chosen", body="Body")
    assert chosen.number == "KB0099999"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "", "body": "b"}, "title"),
        ({"title": "t", "body": "  "}, "body"),
        ({"title": "t" * 201, "body": "b"}, "200"),
        ({"title": "t", "body": "b", "number": "KB12"}, "KB0010001"),
        ({"title": "t", "body": "b", "tags": "one,two"}, "list"),
    ],
)
def test_upsert_rejects_bad_input(session: Session, fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        knowledge.upsert_article(session, **fields)


def test_get_article_raises_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        knowledge.get_article(session, "KB0000000")


# ----- import / export ---------------------------------------------------------------------


def test_import_reports_bad_lines_and_keeps_the_good_ones(session: Session, tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "articles.jsonl",
        {"title": "Good one", "body": "First good body.", "tags": ["x"]},
        '{"title": "broken json", ',
        {"body": "No title here."},
        {"title": "Bad number", "body": "b", "number": "KB-1"},
        "",
        {"title": "Bad tags", "body": "b", "tags": "not-a-list"},
        "[1, 2, 3]",
        {"title": "Good two", "body": "Second good body.", "category": "Hardware"},
    )
    progress: list[tuple[int, int]] = []
    report = knowledge.import_jsonl(session, path, batch_size=1, progress=lambda *p: progress.append(p))

    assert (report.created, report.updated, report.skipped) == (2, 0, 5)
    assert [error.line for error in report.errors] == [2, 3, 4, 6, 7]
    assert "invalid JSON" in str(report.errors[0]) and str(report.errors[0]).startswith("line 2:")
    titles = session.exec(select(KnowledgeArticle.title).order_by(KnowledgeArticle.number)).all()
    assert titles == ["Good one", "Good two"]
    assert progress[-1] == (8, 8)


def test_import_updates_existing_numbers_and_numbers_new_lines_after_the_file(seeded: Session, tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "update.jsonl",
        {"title": "A new article without a number", "body": "Body."},
        {"number": "KB0010001", "title": "Reset your password (updated)", "body": "New steps."},
        {"number": "KB0020000", "title": "Explicit high number", "body": "Body."},
    )
    report = knowledge.import_jsonl(seeded, path)
    assert (report.created, report.updated, report.skipped) == (2, 1, 0)
    assert knowledge.get_article(seeded, "KB0010001").title == "Reset your password (updated)"
    assert knowledge.get_article(seeded, "KB0020001").title == "A new article without a number"
    assert seeded.exec(select(KnowledgeArticle)).all().__len__() == 49 + 2


def test_export_round_trips_the_seed_file_exactly(seeded: Session, tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    assert knowledge.export_jsonl(seeded, exported) == 49
    assert exported.read_bytes() == SEED_FILE.read_bytes()
