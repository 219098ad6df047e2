"""Short news sentences in four languages, and the serial numbers that make each text unique.

The sentences are written for these tests (arms control, missiles, diplomacy). Every
document the corpus expects carries a serial ``FZ000123``; every bad input that might
still become a document carries a tag ``BX000123``, so no two inputs share a text and
none is "already known" by accident.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass, field
from typing import Any

GOOD_PREFIX = "FZ"
BAD_PREFIX = "BX"

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Negotiators met again to discuss limits on intermediate-range missiles.",
        "The ministry said the launch was a scheduled test of a ballistic missile.",
        "Diplomats warned that the treaty could lapse without a new round of talks.",
        "Inspectors asked for access to the storage site near the border.",
        "The envoy called the latest proposal a step toward verification.",
        "Officials declined to say how many warheads remain on alert.",
        "A spokesman said the drills were defensive and planned months ago.",
        "Both sides agreed to exchange data on launchers before the summer.",
    ),
    "fr": (
        "Les négociateurs se sont retrouvés pour parler des missiles à portée intermédiaire.",
        "Le ministère a qualifié le tir d'essai de simple routine.",
        "Les diplomates craignent que le traité expire faute de nouvelles discussions.",
        "Les inspecteurs réclament l'accès au site de stockage près de la frontière.",
        "L'envoyé a salué une proposition sur la vérification des arsenaux.",
        "Aucun chiffre n'a été donné sur le nombre d'ogives en alerte.",
        "Le porte-parole a parlé d'exercices défensifs prévus de longue date.",
        "Les deux capitales échangeront des données sur leurs lanceurs avant l'été.",
    ),
    "ru": (
        "Переговорщики снова встретились, чтобы обсудить ограничения на ракеты средней "
        "дальности.",
        "В министерстве заявили, что пуск был плановым испытанием баллистической ракеты.",
        "Дипломаты предупредили, что договор может истечь без нового раунда переговоров.",
        "Инспекторы попросили доступ к хранилищу у границы.",
        "Посланник назвал новое предложение шагом к проверке.",
        "Чиновники не уточнили, сколько боеголовок остаётся на дежурстве.",
        "Представитель ведомства сказал, что учения носят оборонительный характер.",
        "Стороны договорились обменяться данными о пусковых установках до лета.",
    ),
    "uk": (
        "Переговірники знову зустрілися, щоб обговорити обмеження ракет середньої дальності.",
        "У міністерстві заявили, що пуск був плановим випробуванням балістичної ракети.",
        "Дипломати попередили, що договір може втратити чинність без нового раунду "
        "переговорів.",
        "Інспектори попросили доступ до сховища біля кордону.",
        "Посланець назвав нову пропозицію кроком до перевірки.",
        "Посадовці не уточнили, скільки боєголовок лишається на чергуванні.",
        "Речник відомства сказав, що навчання мають оборонний характер.",
        "Сторони домовилися обмінятися даними про пускові установки до літа.",
    ),
}
TITLES: dict[str, tuple[str, ...]] = {
    "en": ("Talks resume on missile limits", "Launch described as a routine test",
           "Envoys discuss verification"),
    "fr": ("Reprise des pourparlers sur les missiles", "Un tir qualifié de routine",
           "Les envoyés parlent de vérification"),
    "ru": ("Переговоры об ограничении ракет возобновились", "Пуск назвали плановым",
           "Посланники обсудили проверку"),
    "uk": ("Переговори про обмеження ракет відновилися", "Пуск назвали плановим",
           "Посланці обговорили перевірку"),
}
SOURCES: dict[str, tuple[str, ...]] = {
    "en": ("Wire Desk", "Harbour Times"),
    "fr": ("Bureau de Genève", "La Dépêche du Lac"),
    "ru": ("Тестовая лента", "Вестник Севера"),
    "uk": ("Агенція Світ", "Вісник Дніпра"),
}
REF = {"en": "Ref.", "fr": "Réf.", "ru": "Номер", "uk": "Номер"}
LANGUAGES = tuple(SENTENCES)


@dataclass
class Spec:
    """One thing to put in the corpus folder: a file (``data``) or a symlink (``link``).

    ``serials``: the documents it must yield. ``stem``: an odd name (the writer prefixes a
    unique number). ``link``: the target, where ``@N`` is the N-th spec of the same group,
    ``@hidden`` the group's folder under the hidden ``.targets`` (the walk skips hidden
    folders, so its files are reached only through links), ``@hidden/NAME`` a file there.
    ``reached``: for a link to a folder, the files found through it and their serials.
    ``under``: a sub-folder. ``twin``: same content as another spec of its group, so one
    of the two is "already known". ``bug``: the key of a known bug in src it triggers.
    """

    suffix: str
    data: bytes | None = None
    serials: tuple[str, ...] = ()
    stem: str | bytes | None = None
    link: str | None = None
    hidden: dict[str, bytes] = field(default_factory=dict)
    reached: dict[str, tuple[str, ...]] = field(default_factory=dict)
    under: str = ""
    twin: bool = False
    bug: str | None = None


@dataclass
class Ctx:
    """The generator's state: its random numbers, the next serials, the limits in force."""

    rng: random.Random
    max_file_bytes: int = 65_536
    max_document_chars: int = 20_000
    good_serials: int = 0
    bad_tags: int = 0
    issued: list[str] = field(default_factory=list)

    def serial(self) -> str:
        """A new serial: a document the corpus expects to be stored."""
        self.good_serials += 1
        return f"{GOOD_PREFIX}{self.good_serials:06d}"

    def tag(self) -> str:
        """A new tag for bad input that may still become a document (never required)."""
        self.bad_tags += 1
        return f"{BAD_PREFIX}{self.bad_tags:06d}"

    def lang(self) -> str:
        return self.rng.choice(LANGUAGES)

    def sentences(self, mark: str, lang: str | None = None, count: int = 0) -> list[str]:
        """One to three sentences, the last ending with the mark (serial or tag) that
        makes them unique."""
        lang = lang or self.lang()
        picked = self.rng.sample(SENTENCES[lang], count or self.rng.randint(1, 3))
        picked[-1] += f" {REF[lang]} {mark}."
        return picked

    def text(self, mark: str, lang: str | None = None, count: int = 0) -> str:
        return " ".join(self.sentences(mark, lang, count))

    def title(self, lang: str) -> str:
        return self.rng.choice(TITLES[lang])

    def source(self, lang: str) -> str:
        return self.rng.choice(SOURCES[lang])

    def date(self) -> str:
        """A plausible publication time in 2025, ISO 8601 with a zone."""
        return (f"2025-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
                f"T{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}:00Z")

    def record(self, mark: str, **fields: Any) -> dict[str, Any]:
        """A good JSON record carrying ``mark``; ``fields`` replace or remove (None) fields."""
        lang = self.lang()
        record: dict[str, Any] = {
            "id": f"item-{mark}", "source": self.source(lang), "title": self.title(lang),
            "text": self.text(mark, lang), "published_at": self.date(),
            "url": f"https://news.example.org/{lang}/{mark.lower()}", "language": lang,
        }
        for name, value in fields.items():
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        return record


def dumps(obj: Any, rng: random.Random | None = None) -> str:
    """JSON as a wire would send it: ASCII-escaped or not, NaN allowed."""
    ascii_only = bool(rng and rng.random() < 0.5)
    return json.dumps(obj, ensure_ascii=ascii_only)


def gz(data: bytes, level: int = 6) -> bytes:
    """gzip without a time stamp: the same seed writes the same bytes."""
    return gzip.compress(data, level, mtime=0)


def lines(records: list[str], ending: str = "\n") -> bytes:
    return (ending.join(records) + ending).encode("utf-8")


def html_page(ctx: Ctx, mark: str, lang: str | None = None, published: str | None = None,
              title: str | None = None, head_extra: str = "") -> str:
    lang = lang or ctx.lang()
    title = title if title is not None else ctx.title(lang)
    meta = (f'<meta property="article:published_time" content="{published}">'
            if published else "")
    paragraphs = "".join(f"<p>{s}</p>" for s in ctx.sentences(mark, lang, 3))
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{title}</title>{meta}{head_extra}</head><body><nav><a href='/'>Home</a>"
            f"</nav><article><h1>{title}</h1>{paragraphs}</article>"
            f"<footer>© News</footer></body></html>")


def rss(ctx: Ctx, items: list[tuple[str, str, str]], channel_title: str = "Feed",
        declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    """An RSS 2.0 feed; items are (title, description, pubDate)."""
    body = "".join(
        f"<item><title>{t}</title><link>https://feed.example.org/{n}</link>"
        f"<guid>urn:fuzz:{ctx.rng.random()}</guid><description>{d}</description>"
        + (f"<pubDate>{p}</pubDate>" if p else "") + "</item>"
        for n, (t, d, p) in enumerate(items))
    return (f"{declaration}<rss version=\"2.0\"><channel><title>{channel_title}</title>"
            f"<link>https://feed.example.org/</link><description>d</description>"
            f"{body}</channel></rss>")


def atom(ctx: Ctx, items: list[tuple[str, str, str]], feed_title: str = "Feed") -> str:
    """An Atom feed; items are (title, summary, updated)."""
    body = "".join(
        f"<entry><title>{t}</title><id>urn:fuzz:{ctx.rng.random()}</id>"
        f"<link href=\"https://feed.example.org/{n}\"/>"
        + (f"<updated>{u}</updated>" if u else "") + f"<summary>{s}</summary></entry>"
        for n, (t, s, u) in enumerate(items))
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{feed_title}</title><id>urn:fuzz:feed</id>"
            f"<updated>2025-05-01T00:00:00Z</updated>{body}</feed>")


def rfc822(ctx: Ctx) -> str:
    day = ctx.rng.randint(1, 28)
    return f"{day:02d} May 2025 {ctx.rng.randint(0, 23):02d}:15:00 +0000"
