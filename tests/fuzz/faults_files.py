"""Faults in files: XML bombs and feeds, HTML, size limits, gzip, file types, names, links."""

from __future__ import annotations

import zlib

from tests.fuzz.faults import Variant, bad_line
from tests.fuzz.texts import (
    SENTENCES,
    Ctx,
    Spec,
    atom,
    dumps,
    gz,
    html_page,
    lines,
    rfc822,
    rss,
)

LOOPBACK = "http://127.0.0.1:9"  # the discard port: nothing is ever fetched, and if it were
# the connection is refused on this host


# -- XML: bombs, external entities, DTDs, broken feeds ---------------------------------------
def _items(ctx: Ctx, count: int, mark: str = "tag") -> tuple[list[tuple[str, str, str]],
                                                              tuple[str, ...]]:
    marks = [ctx.serial() if mark == "serial" else ctx.tag() for _ in range(count)]
    items = []
    for m in marks:
        lang = ctx.lang()
        # the mark in the title too: a cut item falls back to its title, still unique
        items.append((f"{ctx.title(lang)} ({m})", ctx.text(m, lang), rfc822(ctx)))
    return items, tuple(marks) if mark == "serial" else ()


def billion_laughs(ctx: Ctx) -> Spec:
    levels = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">' + levels + "]>"
            '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
            "<description>x</description></item></channel></rss>")
    return Spec(ctx.rng.choice([".xml", ".rss", ".atom"]), body.encode())


def quadratic_blowup(ctx: Ctx) -> Spec:
    big = "A" * 20_000
    body = (f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "{big}">]>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>' + "&a;" * 2000 + "</title>"
            "<entry><title>t</title><summary>&a;&a;</summary></entry></feed>")
    return Spec(".atom", body.encode())


def external_entity(ctx: Ctx) -> Spec:
    target = ctx.rng.choice(["file:///etc/passwd", f"{LOOPBACK}/secret",
                             "file:///proc/self/environ"])
    kind = ctx.rng.choice(["general", "parameter"])
    if kind == "general":
        dtd = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{target}">]>'
        use = "&xxe;"
    else:
        dtd = f'<!DOCTYPE rss [<!ENTITY % xxe SYSTEM "{target}"> %xxe;]>'
        use = "x"
    items, _ = _items(ctx, 1)
    body = rss(ctx, [(use, items[0][1], items[0][2])], declaration='<?xml version="1.0"?>' + dtd)
    return Spec(ctx.rng.choice([".xml", ".rss"]), body.encode())


def external_dtd(ctx: Ctx) -> Spec:
    """A DOCTYPE naming an external DTD (never fetched)."""
    items, _ = _items(ctx, 2)
    decl = f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{LOOPBACK}/rss.dtd">'
    return Spec(".rss", rss(ctx, items, declaration=decl).encode())


def internal_dtd(ctx: Ctx) -> Spec:
    """A DTD without entities is allowed: the items are read."""
    items, serials = _items(ctx, ctx.rng.randint(1, 3), "serial")
    decl = '<?xml version="1.0"?><!DOCTYPE rss [<!ELEMENT rss ANY>]>'
    return Spec(".rss", rss(ctx, items, declaration=decl).encode(), serials=serials)


def truncated_feed(ctx: Ctx) -> Spec:
    items, _ = _items(ctx, ctx.rng.randint(2, 5))
    body = (rss if ctx.rng.random() < 0.5 else atom)(ctx, items).encode()
    return Spec(".xml", body[: ctx.rng.randint(len(body) // 3, len(body) - 5)])


def feed_without_items(ctx: Ctx) -> Spec:
    body = ctx.rng.choice([rss(ctx, []), atom(ctx, []), '<?xml version="1.0"?><rss/>',
                           '<?xml version="1.0"?><note><to>A</to></note>',
                           "<html><body><p>not a feed</p></body></html>", "hello, feed",
                           '{"items": []}', "<rss version='2.0'><channel>"])
    return Spec(ctx.rng.choice([".xml", ".rss", ".atom"]), body.encode())


def feed_items_without_content(ctx: Ctx) -> Spec:
    """Items with neither title nor description are refused, the rest kept."""
    items, serials = _items(ctx, ctx.rng.randint(1, 3), "serial")
    body = rss(ctx, items)
    empty = "<item><link>https://feed.example.org/x</link><guid>g</guid></item>"
    body = body.replace("</channel>", empty + "</channel>")
    return Spec(".rss", body.encode(), serials=serials)


def feed_oddities(ctx: Ctx) -> Spec:
    """Script in CDATA, ANSI and bidi in titles, bad dates, javascript links."""
    serial = ctx.serial()
    lang = ctx.lang()
    title = "\x1b]8;;https://evil.example/\x07" + ctx.title(lang) + "\u202e\x1b[2J"
    description = ("<![CDATA[<script>alert(1)</script><p>" + ctx.text(serial, lang)
                   + "</p><style>p{}</style>]]>")
    date = ctx.rng.choice(["Mon, 32 Jan 2024 00:00:00 GMT", "yesterday", "99999-01-01T00:00:00Z",
                           ""])
    body = rss(ctx, [(title.replace("\x07", "&#x7;").replace("\x1b", ""), description, date)])
    body = body.replace("https://feed.example.org/0", "javascript:alert(1)")
    return Spec(".rss", body.encode(), serials=(serial,))


def feed_in_cp1251(ctx: Ctx) -> Spec:
    items, _ = _items(ctx, 2)
    items = [(t, d, p) for t, d, p in items]
    body = rss(ctx, items, declaration='<?xml version="1.0" encoding="windows-1251"?>')
    return Spec(".xml", body.encode("cp1251", "replace"))


def feed_utf16(ctx: Ctx) -> Spec:
    items, serials = _items(ctx, 2, "serial")
    body = atom(ctx, items).replace('encoding="utf-8"', 'encoding="utf-16"')
    return Spec(".atom", body.encode("utf-16"), serials=serials)


def deep_xml(ctx: Ctx) -> Spec:
    depth = ctx.rng.choice([1_000, 5_000])
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>deep</title><item>'
            f"<title>deep item {ctx.tag()}</title><description>" + "<b>" * depth
            + ctx.text(ctx.tag()) + "</b>" * depth + "</description></item></channel></rss>")
    return Spec(".rss", body.encode())


def bad_feed_dates(ctx: Ctx) -> Spec:
    """Feed items with impossible dates: kept, the dates untrusted."""
    items, serials = _items(ctx, 2, "serial")
    items = [(t, d, ctx.rng.choice(["Fri, 30 Feb 2024 12:00:00 GMT", "year 99999",
                                    "Sun, 01 Jan 0000 00:00:00 GMT", "99999-01-01T00:00:00Z",
                                    "Mon, 01 Jan 0001 00:00:00 +0100"])) for t, d, _ in items]
    return Spec(".rss", rss(ctx, items).encode(), serials=serials)


def feed_year_zero(ctx: Ctx) -> Spec:
    """feedparser reads "0000" as year 0 and "0000-00-00" as year -1 (REGRESSIONS)."""
    items, serials = _items(ctx, 1, "serial")
    date = ctx.rng.choice(["0000", "0000-00-00"])
    items = [(t, d, date) for t, d, _ in items]
    return Spec(ctx.rng.choice([".rss", ".xml"]), rss(ctx, items).encode(), serials=serials,
                bug="feed-year-0")


def feed_offset_dates(ctx: Ctx) -> Spec:
    items, serials = _items(ctx, 1, "serial")
    items = [(t, d, "Fri, 01 Mar 2024 12:00:00 +2500") for t, d, _ in items]
    return Spec(".rss", rss(ctx, items).encode(), serials=serials, bug="tz-offset")


# -- HTML ----------------------------------------------------------------------------------
def html_without_text(ctx: Ctx) -> Spec:
    body = ctx.rng.choice([
        "<html><head><script>var a = 1;</script><style>p {color: red}</style></head>"
        "<body><script>document.write('x')</script><style>b{}</style></body></html>",
        "<html><head><title>Only a title</title></head></html>",
        "<html><body></body></html>", "<html><body><!-- a comment only --></body></html>",
        "<html><body><img src='a.png'><iframe src='x'></iframe></body></html>",
        "<frameset><frame src='a.html'></frameset>", "<html><body>&nbsp; &#8203; </body></html>",
        "<!doctype html>", "</p></div></body>",
    ])
    return Spec(ctx.rng.choice([".html", ".htm", ".xhtml"]), body.encode())


def html_truncated(ctx: Ctx) -> Spec:
    tag = ctx.tag()
    page = html_page(ctx, tag, title=f"{ctx.title(ctx.lang())} {tag}").encode()
    return Spec(".html", page[: ctx.rng.randint(len(page) // 2, len(page) - 3)])


def html_deep(ctx: Ctx) -> Spec:
    depth = ctx.rng.choice([300, 3_000, 10_000])
    tag = ctx.rng.choice(["div", "span", "table"])
    page = ("<html><body>" + f"<{tag}>" * depth + ctx.text(ctx.tag()) + f"</{tag}>" * depth
            + "</body></html>")
    return Spec(".html", page.encode())


def html_cp1251(ctx: Ctx) -> Spec:
    page = html_page(ctx, ctx.tag(), "ru").replace('charset="utf-8"', 'charset="windows-1251"')
    return Spec(".html", page.encode("cp1251"))


def html_hostile_title(ctx: Ctx) -> Spec:
    """ANSI and bidi controls in the title, a bad date in the metadata: the page is kept."""
    serial = ctx.serial()
    title = "\x1b[2J\u202eНовини\x1b]8;;https://evil.example/\x07 ракети"
    date = ctx.rng.choice(["2023-02-30T10:00:00Z", "99999-01-01", "0000-00-00T00:00:00Z",
                           "not a date at all"])
    return Spec(".html", html_page(ctx, serial, published=date, title=title).encode(),
                serials=(serial,))


def html_offset_date(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    page = html_page(ctx, serial, published="2024-05-01T10:00:00+25:00")
    return Spec(".html", page.encode(), serials=(serial,), bug="tz-offset")


def xhtml_declaration(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    page = ('<?xml version="1.0" encoding="utf-8"?>\n'
            + html_page(ctx, serial).replace("<!doctype html>", ""))
    return Spec(".xhtml", page.encode(), serials=(serial,))


# -- limits --------------------------------------------------------------------------------
def _filler(ctx: Ctx, chars: int, lang: str = "en") -> str:
    out = ""
    while len(out) < chars:
        out += " " + ctx.rng.choice(SENTENCES[lang])
    return out[:chars]


def file_over_cap(ctx: Ctx) -> Spec:
    suffix = ctx.rng.choice([".txt", ".md", ".html", ".json", ".xml"])
    head = {".json": b'{"text": "', ".xml": b'<?xml version="1.0"?><rss><channel><item>'
            b"<title>t</title><description>", ".html": b"<html><body><p>"}.get(suffix, b"")
    body = (head + (ctx.tag() + " ").encode()).ljust(ctx.max_file_bytes + 1, b"a")
    return Spec(suffix, body[: ctx.max_file_bytes + 1])


def text_at_cap(ctx: Ctx) -> Spec:
    """A text of exactly max_document_chars (in Cyrillic: twice the bytes) is kept."""
    serial = ctx.serial()
    lang = ctx.rng.choice(["en", "uk"])
    text = (serial + _filler(ctx, ctx.max_document_chars, lang))[: ctx.max_document_chars]
    text = text.rstrip().ljust(ctx.max_document_chars, ".")
    return Spec(".txt", text.encode(), serials=(serial,))


def text_over_cap(ctx: Ctx) -> Spec:
    text = (ctx.tag() + _filler(ctx, ctx.max_document_chars + 10))
    text = text[: ctx.max_document_chars].rstrip().ljust(ctx.max_document_chars, ".") + "!"
    return Spec(ctx.rng.choice([".txt", ".md"]), text.encode())


def one_endless_line(ctx: Ctx) -> Spec:
    return Spec(".txt", (ctx.tag() + "x" * (ctx.max_document_chars * 2)).encode())


def json_lines_with_long_line(ctx: Ctx) -> Spec:
    """A line over the byte cap and one over the character cap between good lines."""
    serials = [ctx.serial() for _ in range(3)]
    rows = [dumps(ctx.record(s)) for s in serials]
    over_bytes = dumps(ctx.record(ctx.tag(), pad="p" * ctx.max_file_bytes))
    over_chars = dumps(ctx.record(ctx.tag(), text=ctx.tag() + " " + "слово " *
                                  (ctx.max_document_chars // 5)))
    rows.insert(1, over_bytes)
    rows.insert(2, over_chars)
    return Spec(".jsonl", lines(rows), serials=tuple(serials))


def json_line_at_cap(ctx: Ctx) -> Spec:
    """A line of exactly max_file_bytes (newline included) is read."""
    serial = ctx.serial()
    row = dumps(ctx.record(serial, pad=""))
    pad = ctx.max_file_bytes - len(row.encode()) - 1
    row = row[:-2] + "p" * pad + '"}'
    assert len(row.encode()) + 1 == ctx.max_file_bytes
    return Spec(".jsonl", lines([row]), serials=(serial,))


def blank_document(ctx: Ctx) -> Spec:
    return Spec(".txt", b"\n" * ctx.rng.randint(1_000, 30_000))


# -- gzip ------------------------------------------------------------------------------------
def _good_rows(ctx: Ctx, count: int) -> tuple[list[str], list[str]]:
    serials = [ctx.serial() for _ in range(count)]
    return serials, [dumps(ctx.record(s), ctx.rng) for s in serials]


def gzip_truncated(ctx: Ctx) -> Spec:
    """The lines before the break are kept (README): every complete line that zlib can
    give back from the cut archive is expected."""
    serials, rows = _good_rows(ctx, ctx.rng.randint(20, 80))
    whole = gz(lines(rows))
    cut = whole[: ctx.rng.randint(20, len(whole) - 9)]
    available = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    kept = available.count(b"\n")
    return Spec(".jsonl.gz", cut, serials=tuple(serials[:kept]))


def gzip_bad_trailer(ctx: Ctx) -> Spec:
    """A wrong CRC or junk after the member: every line was read before the check fails."""
    serials, rows = _good_rows(ctx, ctx.rng.randint(1, 5))
    whole = gz(lines(rows))
    data = ctx.rng.choice([whole[:-8] + b"\x00\x00\x00\x00" + whole[-4:],
                           whole + b"junk after the member"])
    return Spec(".jsonl.gz", data, serials=tuple(serials))


def gzip_multi_member(ctx: Ctx) -> Spec:
    serials, rows = _good_rows(ctx, 4)
    return Spec(".jsonl.gz", gz(lines(rows[:2])) + gz(lines(rows[2:])),
                serials=tuple(serials))


def gzip_bomb_lines(ctx: Ctx) -> Spec:
    """One line that decompresses far past the cap, after good lines: they are kept."""
    serials, rows = _good_rows(ctx, 2)
    stream = lines(rows) + b'{"text": "' + b"A" * (ctx.max_file_bytes * 60) + b'"}\n'
    return Spec(".jsonl.gz", gz(stream, 9), serials=tuple(serials))


def gzip_bomb_file(ctx: Ctx) -> Spec:
    suffix = ctx.rng.choice([".json.gz", ".txt.gz", ".html.gz", ".xml.gz", ".md.gz"])
    return Spec(suffix, gz(b" " * (ctx.max_file_bytes * 80), 9))


def gzip_many_blank_lines(ctx: Ctx) -> Spec:
    return Spec(".jsonl.gz", gz(b"\n" * 200_000, 9))


def not_gzip(ctx: Ctx) -> Spec:
    suffix = ctx.rng.choice([".jsonl.gz", ".json.gz", ".txt.gz", ".rss.gz"])
    data = ctx.rng.choice([dumps(ctx.record(ctx.tag())).encode(), b"\x1f\x8b",
                           b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
                           bytes(ctx.rng.randrange(256) for _ in range(300))])
    return Spec(suffix, data)


def gzip_empty(ctx: Ctx) -> Spec:
    return Spec(ctx.rng.choice([".jsonl.gz", ".txt.gz", ".json.gz"]), gz(b""))


def gzip_of_bad_lines(ctx: Ctx) -> Spec:
    serials, rows = _good_rows(ctx, 2)
    stream = b"\n".join([rows[0].encode(), bad_line(ctx), bad_line(ctx), rows[1].encode()])
    return Spec(".jsonl.gz", gz(stream + b"\n"), serials=tuple(serials))


def gzip_nested(ctx: Ctx) -> Spec:
    return Spec(ctx.rng.choice([".jsonl.gz.gz", ".gz", ".tar.gz"]),
                gz(gz(dumps(ctx.record(ctx.tag())).encode())))


def gzip_good_feed(ctx: Ctx) -> Spec:
    items, serials = _items(ctx, 2, "serial")
    return Spec(".xml.gz", gz(rss(ctx, items).encode()), serials=serials)


# -- file types ------------------------------------------------------------------------------
def unknown_types(ctx: Ctx) -> Spec:
    suffix = ctx.rng.choice([".csv", ".pdf", ".docx", ".exe", "", ".jsonl.bak", ".txt~",
                             ".json.zip", ".tsv", ".log", ".yaml", ".", ".TXT.orig"])
    data = ctx.rng.choice([b"id,text\n1,hello\n", ctx.text(ctx.tag()).encode(),
                           dumps(ctx.record(ctx.tag())).encode()])
    return Spec(suffix, data)


def feed_with_unknown_suffix(ctx: Ctx) -> Spec:
    """A file whose first bytes say it is a feed is read as one (README)."""
    items, serials = _items(ctx, 2, "serial")
    return Spec(ctx.rng.choice([".dat", ".php", ""]), rss(ctx, items).encode(),
                serials=serials)


def upper_case_suffix(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    suffix = ctx.rng.choice([".TXT", ".Md", ".JSON"])
    data = (dumps(ctx.record(serial)) if suffix == ".JSON" else ctx.text(serial)).encode()
    return Spec(suffix, data, serials=(serial,))


# -- names -------------------------------------------------------------------------------
ODD_STEMS = [
    " with spaces ", "доклад про ракети", "rapport à Genève", "переговоры", "a\nnewline",
    "tab\there", "--help", "-rf", "$(reboot)", "`id`", "'quote\"", "*?[", "back\\slash",
    "emoji 🚀", "e\u0301 nfd", "\u202etxt.exe", "\x1b[31mred", "weird:12", "looks#item1",
    "array[3]", "x" * 200, "%s%n", "semi;colon", "  ", "name.", "dot..dot", "\r\ncrlf",
]
BYTE_STEMS = [b"latin1 \xe9t\xe9", b"\xff\xfe bytes", b"cp1251 \xf0\xe0\xea\xe5\xf2\xe0"]


def _named(ctx: Ctx, stem: str | bytes, bug: str | None = None) -> Spec:
    serial = ctx.serial()
    suffix = ctx.rng.choice([".txt", ".jsonl", ".md"])
    data = (dumps(ctx.record(serial)) if suffix == ".jsonl" else ctx.text(serial)).encode()
    return Spec(suffix, data, serials=(serial,), stem=stem, bug=bug)


def odd_names(ctx: Ctx) -> Spec:
    """Good content under a name a shell, a terminal or a parser would stumble on."""
    return _named(ctx, ODD_STEMS[ctx.good_serials % len(ODD_STEMS)])


def byte_names(ctx: Ctx) -> Spec:
    """A name that is not UTF-8 (REGRESSIONS["bytes-name"])."""
    return _named(ctx, ctx.rng.choice(BYTE_STEMS), bug="bytes-name")


def nested_folders(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    under = ctx.rng.choice(["a/b/c", "вкладена тека", "x.jsonl", "deep/" * 20 + "end"])
    return Spec(".txt", ctx.text(serial).encode(), serials=(serial,), under=under)


# -- links ---------------------------------------------------------------------------------
def link_to_file_in_corpus(ctx: Ctx) -> list[Spec]:
    """A link beside its target: the same document twice, so one is already known."""
    serial = ctx.serial()
    data = ctx.text(serial).encode()
    return [Spec(".txt", data, serials=(serial,), twin=True),
            Spec(".txt", link="@0", serials=(serial,), twin=True)]


def link_to_hidden_file(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    return Spec(".jsonl", link="@hidden/target.jsonl",
                hidden={"target.jsonl": lines([dumps(ctx.record(serial))])}, serials=(serial,))


def link_to_folder(ctx: Ctx) -> Spec:
    """A linked folder is walked (README): its files are found through the link."""
    one, two = ctx.serial(), ctx.serial()
    return Spec("", link="@hidden",
                hidden={"one.txt": ctx.text(one).encode(),
                        "two.jsonl": lines([dumps(ctx.record(two))])},
                reached={"one.txt": (one,), "two.jsonl": (two,)})


def dangling_link(ctx: Ctx) -> Spec:
    return Spec(ctx.rng.choice([".txt", ".jsonl", ""]),
                link=ctx.rng.choice(["does-not-exist.txt", "/nonexistent/fuzz/x.json"]))


def self_loop(ctx: Ctx) -> Spec:
    return Spec(".txt", link="@self")


def two_link_loop(ctx: Ctx) -> list[Spec]:
    return [Spec(".txt", link="@1"), Spec(".jsonl", link="@0")]


def folder_loop(ctx: Ctx) -> list[Spec]:
    """A link back up the tree is not followed twice; a good file sits beside it."""
    serial = ctx.serial()
    return [Spec(".txt", ctx.text(serial).encode(), serials=(serial,), under="loop"),
            Spec("", link="..", under="loop"), Spec("", link=".", under="loop")]


def link_to_device(ctx: Ctx) -> Spec:
    return Spec(".txt", link="/dev/null")


FILE_FAMILIES: dict[str, tuple[float, list[Variant]]] = {
    "xml": (1.2, [billion_laughs, quadratic_blowup, external_entity, external_dtd,
                  internal_dtd, truncated_feed, feed_without_items, feed_items_without_content,
                  feed_oddities, feed_in_cp1251, feed_utf16, deep_xml, bad_feed_dates,
                  feed_offset_dates, feed_year_zero]),
    "html": (0.8, [html_without_text, html_truncated, html_deep, html_cp1251,
                   html_hostile_title, xhtml_declaration, html_offset_date]),
    "limits": (0.6, [file_over_cap, text_at_cap, text_over_cap, one_endless_line,
                     json_lines_with_long_line, json_line_at_cap, blank_document]),
    "gzip": (0.8, [gzip_truncated, gzip_bad_trailer, gzip_multi_member, gzip_bomb_lines,
                   gzip_bomb_file, gzip_many_blank_lines, not_gzip, gzip_empty,
                   gzip_of_bad_lines, gzip_nested, gzip_good_feed]),
    "file-type": (0.5, [unknown_types, feed_with_unknown_suffix, upper_case_suffix]),
    "names": (0.6, [odd_names, odd_names, nested_folders, byte_names]),
    "links": (0.4, [link_to_file_in_corpus, link_to_hidden_file, link_to_folder,
                    dangling_link, self_loop, two_link_loop, folder_loop, link_to_device]),
}
