"""The corpus and queries of bench/kb_bench.py: seed articles, generated support articles
(a product x issue x platform each) and clean and misspelled queries, all from a seeded random."""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from pathlib import Path

from bench.kb_issues import ESCALATIONS, GENERIC_STEPS, ISSUES, PLATFORMS, SYLLABLES

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "agent_workspace" / "seed_data" / "kb_articles.jsonl"


@dataclass(frozen=True)
class Article:
    number: str
    title: str
    body: str
    category: str
    tags: str
    published: bool = True


@dataclass(frozen=True)
class Query:
    text: str
    target: str  # the article number that answers it


def product_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize())
    return sorted(names)


@dataclass(frozen=True)
class GeneratedArticle:
    article: Article
    product: str
    platform: str
    issue: int


def generate(rng: random.Random, count: int, first_number: int) -> list[GeneratedArticle]:
    """``count`` distinct (product, issue, platform) articles with varied bodies."""
    products = product_names(rng, 220)
    combos = [(p, i, os) for p in products for i in range(len(ISSUES)) for os in PLATFORMS]
    if count > len(combos):
        raise SystemExit(f"at most {len(combos)} generated articles")
    generated = []
    for offset, (product, issue, os_name) in enumerate(rng.sample(combos, count)):
        title, category, tags, _, symptoms, causes, steps = ISSUES[issue]
        fill = {"p": product, "os": os_name}
        chosen_steps = [s.format(**fill) for s in steps] + rng.sample(GENERIC_STEPS, 3)
        rng.shuffle(chosen_steps)
        other_os = rng.choice(PLATFORMS)
        body = "\n".join(
            [
                "## Symptoms",
                *(s.format(**fill) for s in rng.sample(symptoms, len(symptoms))),
                f"The error code shown is 0x{rng.randrange(16**6):06X}.",
                "",
                "## Cause",
                rng.choice(causes).format(**fill)
                + f" It was also seen on {other_os} with {product} version {rng.randint(2, 9)}.{rng.randint(0, 20)}.",
                "",
                "## Resolution",
                *(f"{n}. {step}" for n, step in enumerate(chosen_steps, start=1)),
                "",
                "## When to escalate",
                rng.choice(ESCALATIONS),
            ]
        )
        article = Article(
            number=f"KB{first_number + offset:07d}",
            title=title.format(**fill),
            body=body,
            category=category,
            tags=f"{tags},{product.lower()}",
        )
        generated.append(GeneratedArticle(article, product, os_name, issue))
    return generated


def load_seed() -> list[Article]:
    articles = []
    for line in SEED_FILE.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        articles.append(Article(item["number"], item["title"], item["body"], item["category"], ",".join(item["tags"])))
    return articles


# ----- queries ----------------------------------------------------------------

KEYBOARD_NEIGHBOURS = {
    row[i]: row[max(0, i - 1)] + row[i + 1 : i + 2]
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for i in range(len(row))
}


def misspell_word(rng: random.Random, word: str) -> str:
    position = rng.randrange(1, len(word) - 1)  # keep the first letter, as people do
    kind = rng.choice(("drop", "swap", "substitute", "double"))
    if kind == "drop":
        return word[:position] + word[position + 1 :]
    if kind == "swap":
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind == "substitute":
        char = word[position].lower()
        replacement = rng.choice(KEYBOARD_NEIGHBOURS.get(char) or string.ascii_lowercase)
        return word[:position] + replacement + word[position + 1 :]
    return word[:position] + word[position] + word[position:]


def misspell(rng: random.Random, query: str) -> str:
    """Typos in about half the words of 4+ letters (at least one), sometimes reordered."""
    words = query.split()
    eligible = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    chosen = {i for i in eligible if rng.random() < 0.5} or set(rng.sample(eligible, 1))
    words = [misspell_word(rng, w) if i in chosen else w for i, w in enumerate(words)]
    if rng.random() < 0.5:
        rng.shuffle(words)
    return " ".join(words)


def make_queries(rng: random.Random, pool: list[GeneratedArticle], count: int) -> tuple[list[Query], list[Query]]:
    """Clean queries (a paraphrase or the title's words, some shuffled) and their misspellings."""
    clean, misspelled = [], []
    for item in rng.sample(pool, count):
        title, _, _, paraphrases, *_ = ISSUES[item.issue]
        template = rng.choice(paraphrases + [title])
        text = template.format(p=item.product, os=item.platform).lower()
        if rng.random() < 0.3:
            words = text.split()
            rng.shuffle(words)
            text = " ".join(words)
        clean.append(Query(text, item.article.number))
        misspelled.append(Query(misspell(rng, text), item.article.number))
    return clean, misspelled
