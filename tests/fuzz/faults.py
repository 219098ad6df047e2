"""Faults in content: empty files, binary junk, encodings, broken JSON, dates, controls.

Each variant takes the generator's Ctx and returns the Spec (or group of Specs) of one
input. A variant whose records are good but for one odd field (a date, a control
character) lists their serials: those documents must be stored. Everything else that
might still become a document carries a unique tag instead, so it is never "known".
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from collections.abc import Callable

from tests.fuzz.texts import Ctx, Spec, dumps, lines

Variant = Callable[[Ctx], "Spec | list[Spec]"]


# -- empty and white space ----------------------------------------------------------------
def empty_files(ctx: Ctx) -> Spec:
    return Spec(ctx.rng.choice([".txt", ".md", ".json", ".jsonl", ".html", ".xml", ".ndjson",
                                ".rss", ".htm", ".atom"]), b"")


def whitespace_files(ctx: Ctx) -> Spec:
    data = ctx.rng.choice([b" ", b"\n", b"\r\n" * 40, b" \t \n\t", "\u00a0\u2003\u3000\n"
                           .encode(), b"\xef\xbb\xbf", "\ufeff  \n".encode(),
                           "\u200b\u200b\u2060".encode(), b"\x0b\x0c\n"])
    return Spec(ctx.rng.choice([".txt", ".md", ".html", ".jsonl"]), data)


def blank_lines_jsonl(ctx: Ctx) -> Spec:
    return Spec(".jsonl", b"\n" * ctx.rng.randint(1, 500) + b"   \n\t\n")


def empty_json_values(ctx: Ctx) -> Spec:
    return Spec(".json", ctx.rng.choice([b"[]", b" [ ] ", b"{}", b'""', b"null", b"[[]]",
                                         b"[{}]", b"\n\n[]\n"]))


def markdown_heading_only(ctx: Ctx) -> Spec:
    """A heading and nothing under it: the heading is the text (it must be unique)."""
    heading = f"# {ctx.title(ctx.lang())} {ctx.tag()}"
    return Spec(".md", ctx.rng.choice(["{}\n", "{}\n\n  \n", "\n\n{}"]).format(heading)
                .encode())


# -- binary junk with text extensions -------------------------------------------------------
def binary_with_nul(ctx: Ctx) -> Spec:
    junk = bytes(ctx.rng.randrange(256) for _ in range(ctx.rng.randint(10, 3000)))
    return Spec(ctx.rng.choice([".txt", ".md", ".json", ".html", ".jsonl", ".xml"]),
                junk + b"\x00" + junk[:50])


def binary_high_bytes(ctx: Ctx) -> Spec:
    """Binary without NUL: charset detection gets its chance (and may find garbage text)."""
    junk = bytes(ctx.rng.randrange(0x80, 0x100) for _ in range(ctx.rng.randint(5, 2000)))
    return Spec(ctx.rng.choice([".txt", ".md", ".htm"]), junk)


def binary_formats(ctx: Ctx) -> Spec:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    data = ctx.rng.choice([b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
                           b"\x7fELF\x02\x01\x01" + bytes(64),
                           buffer.getvalue(), b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(32),
                           b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"])
    return Spec(ctx.rng.choice([".txt", ".json", ".jsonl", ".html"]), data)


def binary_jsonl_lines(ctx: Ctx) -> Spec:
    """Lines of junk bytes between good lines: the good lines are kept."""
    serials = [ctx.serial() for _ in range(ctx.rng.randint(1, 3))]
    rows = [dumps(ctx.record(s), ctx.rng).encode() for s in serials]
    rows.insert(ctx.rng.randint(0, len(rows)),
                bytes(ctx.rng.randrange(0x80, 0x100) for _ in range(40)))
    rows.insert(ctx.rng.randint(0, len(rows)), b"\x00\x01\x02\xff\xfe")
    return Spec(".jsonl", b"\n".join(rows) + b"\n", serials=tuple(serials))


# -- encodings ------------------------------------------------------------------------------
def cp1251_text(ctx: Ctx) -> Spec:
    lang = ctx.rng.choice(["ru", "uk"])
    return Spec(".txt", ctx.text(ctx.tag(), lang, 3).encode("cp1251"))


def koi8_markdown(ctx: Ctx) -> Spec:
    return Spec(".md", ("# " + ctx.title("ru") + "\n\n" + ctx.text(ctx.tag(), "ru", 3))
                .encode("koi8-r"))


def latin1_text(ctx: Ctx) -> Spec:
    return Spec(".txt", ctx.text(ctx.tag(), "fr", 3).encode("latin-1"))


def utf16_with_bom(ctx: Ctx) -> Spec:
    """A BOM says what the file is: the text is read (README), so it is expected."""
    serial = ctx.serial()
    codec = ctx.rng.choice(["utf-16", "utf-16-be", "utf-32"])
    text = ctx.text(serial)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(codec)  # with the platform's BOM
    return Spec(ctx.rng.choice([".txt", ".md"]), data, serials=(serial,))


def utf16_without_bom(ctx: Ctx) -> Spec:
    codec = ctx.rng.choice(["utf-16-le", "utf-16-be"])
    return Spec(ctx.rng.choice([".txt", ".html", ".jsonl"]), ctx.text(ctx.tag()).encode(codec))


def utf16_json_lines(ctx: Ctx) -> Spec:
    """JSON Lines are UTF-8 (RFC 8259): UTF-16 lines are undecodable, one by one."""
    rows = [dumps(ctx.record(ctx.tag())) for _ in range(3)]
    return Spec(".jsonl", "\n".join(rows).encode("utf-16"))


def mixed_encodings(ctx: Ctx) -> Spec:
    data = (ctx.text(ctx.tag(), "uk").encode("utf-8") + b"\n\n"
            + ctx.text(ctx.tag(), "ru").encode("cp1251") + b"\n"
            + ctx.text(ctx.tag(), "fr").encode("latin-1"))
    return Spec(ctx.rng.choice([".txt", ".md"]), data)


def cut_utf8_mid_file(ctx: Ctx) -> Spec:
    raw = ctx.text(ctx.tag(), ctx.rng.choice(["ru", "uk", "fr"]), 3).encode()
    # drop one continuation byte somewhere inside a multi-byte character
    cuts = [i for i, b in enumerate(raw[:-10]) if 0x80 <= b < 0xC0]
    at = ctx.rng.choice(cuts)
    return Spec(".txt", raw[:at] + raw[at + 1:])


def cut_utf8_at_end(ctx: Ctx) -> Spec:
    """UTF-8 cut inside its last character is kept, the cut marked (README)."""
    serial = ctx.serial()
    raw = (ctx.text(serial, ctx.rng.choice(["ru", "uk"])) + " Ж").encode()
    return Spec(ctx.rng.choice([".txt", ".md"]), raw[:-1], serials=(serial,))


def overlong_and_cesu(ctx: Ctx) -> Spec:
    bad = ctx.rng.choice([b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf8\x88\x80"])
    return Spec(".txt", ctx.text(ctx.tag(), "en").encode() + bad + b" end")


def bom_then_latin1(ctx: Ctx) -> Spec:
    return Spec(".txt", codecs.BOM_UTF8 + ctx.text(ctx.tag(), "fr").encode("latin-1"))


# -- invalid JSON -------------------------------------------------------------------------
def _deep(n: int, kind: str) -> str:
    return "[" * n + "]" * n if kind == "[" else '{"a":' * n + "1" + "}" * n


def _obj(quoted: str, rest: str = "}") -> str:
    """A JSON object text whose "text" is ``quoted`` (a JSON string), then ``rest``."""
    return '{"text": ' + quoted + rest


def bad_line(ctx: Ctx) -> bytes:
    """One JSON Lines line that must not become a required document."""
    tag = ctx.tag()
    text = ctx.text(tag)
    q = json.dumps(text, ensure_ascii=False)
    choices: list[str | bytes] = [
        dumps(ctx.record(tag))[: ctx.rng.randint(1, 40)],
        _obj(q, ', "source": "Desk",}'), "[" + _obj(q) + ",]",
        "NaN", "Infinity", "-Infinity", "42", "-0.0", "1e400", '"a string"', "null", "true",
        "[]", "[1, 2, 3]", "{}", '{"title": null, "text": null}', '{"source": "Desk"}',
        '{"text": 12}', _obj("[" + q + "]"), _obj('{"body": ' + q + "}"),
        '{"text": true}', '{"text": 1.5}', '{"html": 5}', _obj(q, ', "title": 7}'),
        _obj(q, ', "source": ["a"]}'), _obj(q, ', "url": {"x": 1}}'),
        _obj(q, ', "language": 3}'), _obj(q, ', "id": [1]}'), _obj(q, ', "id": true}'),
        _obj(q, ', "id": 1e400}'),
        '{"text": "   \\n\\t  "}', '{"text": "\\u0000\\u0001\\u001b"}', '{"title": "   "}',
        '{"text": ""}', '{"html": ""}', '{"html": "<script>var x = 1;</script>"}',
        '{"text": "\\udfff\\ud800"}', _deep(ctx.rng.randint(1000, 3000), "["),
        _deep(ctx.rng.randint(1000, 2000), "{"), "9" * 5000,
        _obj(q, ', "n": ' + "7" * 5000 + "}"), _obj(q, ' "y"}'),
        "{'text': '" + text + "'}", "// a comment", _obj(q) + '{"text": "again"}',
        '{"text": "bad escape \\x41"}', '{"text": "\\uZZZZ"}', '{"text": "raw\ttab"}',
        "\ufeff" + _obj(q), "]", "}", ",", ":", '{"__proto__": ' + _obj(q) + "}",
        b'{"text": "caf\xe9 cr\xe8me"}', b'{"text": "\xff\xfe\xfd"}', b"\x00",
        _obj(q, ', "published_at": ' + "9" * 4301 + "}"),
    ]
    line = ctx.rng.choice(choices)
    return line if isinstance(line, bytes) else line.encode("utf-8")


def json_lines_mixed(ctx: Ctx) -> Spec:
    """Some good lines, some bad ones, blank lines and CRLF: every good line is kept."""
    serials = [ctx.serial() for _ in range(ctx.rng.randint(1, 5))]
    rows = [dumps(ctx.record(s), ctx.rng).encode() for s in serials]
    for _ in range(ctx.rng.randint(1, 6)):
        rows.insert(ctx.rng.randint(0, len(rows)), bad_line(ctx))
    if ctx.rng.random() < 0.3:
        rows.insert(ctx.rng.randint(0, len(rows)), b"   ")
    ending = ctx.rng.choice([b"\n", b"\r\n"])
    tail = ending if ctx.rng.random() < 0.8 else b""
    return Spec(ctx.rng.choice([".jsonl", ".ndjson", ".JSONL"]), ending.join(rows) + tail,
                serials=tuple(serials))


def json_single_bad_line(ctx: Ctx) -> Spec:
    return Spec(".jsonl", bad_line(ctx) + b"\n")


def json_document_broken(ctx: Ctx) -> Spec:
    tag = ctx.tag()
    text = ctx.text(tag)
    q = json.dumps(text, ensure_ascii=False)
    good = dumps(ctx.record(tag))
    choices = [
        good[: ctx.rng.randint(1, len(good) - 1)],
        "[" + good + ", " + dumps(ctx.record(ctx.tag())) + ",]",
        _obj(q, ",}"), "NaN", "Infinity", q, "null", "true", "42",
        "[[" + good + "]]", '{"title": 5}', _obj("[" + q + "]"),
        _deep(ctx.rng.randint(1000, 6000), "["), _deep(ctx.rng.randint(1000, 3000), "{"),
        "9" * 5000, _obj(q, ', "n": ' + "1" * 5000 + "}"),
        good + "\n" + dumps(ctx.record(ctx.tag())), "/* comment */ " + good,
        "{'text': '" + text + "'}", good.replace('"', "'"), '{"text": "\\ud800"}',
    ]
    return Spec(".json", ctx.rng.choice(choices).encode())


def json_array_mixed(ctx: Ctx) -> Spec:
    """An array: its good objects are kept, its bad elements quarantined one by one."""
    serials = [ctx.serial() for _ in range(ctx.rng.randint(1, 4))]
    items: list[object] = [ctx.record(s) for s in serials]
    for bad in ctx.rng.sample([None, 5, "text", [], {}, {"text": 3}, {"title": ""},
                               [{"text": "nested"}], True, {"source": "x"}], 3):
        items.insert(ctx.rng.randint(0, len(items)), bad)
    return Spec(".json", dumps(items, ctx.rng).encode(), serials=tuple(serials))


def deep_metadata(ctx: Ctx) -> Spec:
    """A good record with an extra field nested 500 deep: kept, the field cut (README)."""
    serial = ctx.serial()
    depth = ctx.rng.choice([500, 700, 900])
    base = dumps(ctx.record(serial))
    extra = ', "extra": ' + ctx.rng.choice(["[" * depth + "]" * depth,
                                           '{"k":' * depth + "0" + "}" * depth])
    data = (base[:-1] + extra + "}").encode()
    return Spec(ctx.rng.choice([".jsonl", ".json"]), data + b"\n", serials=(serial,))


def huge_keys(ctx: Ctx) -> Spec:
    """Keys of thousands of characters are metadata like any other: the record is kept."""
    serial = ctx.serial()
    record = ctx.record(serial)
    record["k" * ctx.rng.randint(5_000, 20_000)] = 1
    record["ключ" * 1_000] = "значение"  # 8 KB: the line stays under the byte cap
    return Spec(ctx.rng.choice([".jsonl", ".json"]), dumps(record, ctx.rng).encode() + b"\n",
                serials=(serial,))


def duplicate_keys(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    other = ctx.tag()
    data = (_obj(json.dumps(ctx.text(other)), ', "text": ') + json.dumps(ctx.text(serial))
            + ', "source": "A", "source": "B"}')
    return Spec(".jsonl", data.encode() + b"\n", serials=(serial,))


def long_integers(ctx: Ctx) -> Spec:
    """4,300 digits is the most Python reads; one more is invalid-json (README)."""
    serial = ctx.serial()
    good = dumps(ctx.record(serial))
    near = good[:-1] + ', "n": ' + "8" * 4300 + "}"
    over = dumps(ctx.record(ctx.tag()))[:-1] + ', "n": ' + "8" * 4301 + "}"
    return Spec(".jsonl", lines([near, over]), serials=(serial,))


# -- impossible dates -------------------------------------------------------------------------
BAD_DATES: list[object] = [
    "0000-01-01T00:00:00Z", "0000-00-00", "year 0", "0", "99999-01-01",
    "+99999-12-31T00:00:00Z", "2023-13-01", "2023-02-30T10:00:00Z", "2023-04-31",
    "2023-00-10", "2024-01-01T25:00:00Z", "24:61:61", "Mon, 32 Jan 2024 00:00:00 GMT",
    "Fri, 30 Feb 2024 12:00:00 GMT", -1, -86400 * 365 * 3000, -1e18, 1e18, 1e300,
    253402300800, 0, "9" * 5000, "1" * 17, "-1", "１９９９-０１-０１", "٢٠٢٤-٠١-٠١",
    "2024-01-01 " * 50, "", "   ", "\u0000", "2024-05-01T10:00:00Z\u202e", True, False,
    [], {"year": 2024}, [2024, 1, 1], "NaN", "tomorrow", "2091-01-01T00:00:00Z",
    "1850-05-01", "2024-06-01T12:00:00 PST", "2024-06-01 12:00 +14:30",
]
# Offsets of a day or more are impossible; dateutil builds them and Python then refuses
# them (REGRESSIONS["tz-offset"]).
BAD_OFFSETS = ["2024-01-01T00:00:00+25:00", "Fri, 01 Mar 2024 12:00:00 +2500",
               "2024-01-01T00:00:00-99:99", "2024-01-01T00:00:00+24:00"]


def impossible_dates(ctx: Ctx) -> Spec:
    """Good records with impossible dates: kept, the date untrusted (README "Dates")."""
    serials = [ctx.serial() for _ in range(ctx.rng.randint(1, 4))]
    rows = [ctx.record(s, published_at=ctx.rng.choice(BAD_DATES)) for s in serials]
    for row in rows:
        if row["published_at"] in ("", "   "):
            row["published_at"] = "nonsense"  # None would mean "drop the field"
    raw = [dumps(r, ctx.rng) for r in rows]
    if ctx.rng.random() < 0.3:  # JSON's own non-numbers, written by hand
        serial = ctx.serial()
        serials.append(serial)
        value = ctx.rng.choice(["NaN", "Infinity", "-Infinity", "-0", "1e999"])
        raw.append(dumps(ctx.record(serial))[:-1] + f', "published_at": {value}' + "}")
        raw[-1] = raw[-1].replace('"published_at": "', '"date_was": "', 1)
    return Spec(".jsonl", lines(raw), serials=tuple(serials))


def impossible_offsets(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    row = ctx.record(serial, published_at=ctx.rng.choice(BAD_OFFSETS))
    return Spec(".jsonl", lines([dumps(row)]), serials=(serial,), bug="tz-offset")


# -- control characters, bidi, terminal escapes ----------------------------------------------
ODDITIES = ["\x00", "\x01", "\x07", "\x08", "\x1b[2J", "\x1b[31;1m", "\x1b[0m",
            "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07", "\x1b]0;pwned\x07", "\x9b2J",
            "\u202e", "\u202d", "\u2066", "\u200f", "\ufeff", "\ufffe", "\uffff", "\ud800",
            "\udfff", "\x7f", "\x85", "\u2028", "\u2029", "\r", "\x0c", "\U0010ffff",
            "\ufdd0", "e\u0301", "\u0000\u0000"]


def _sprinkle(ctx: Ctx, text: str, count: int = 3) -> str:
    for _ in range(count):
        at = ctx.rng.randint(0, len(text))
        text = text[:at] + ctx.rng.choice(ODDITIES) + text[at:]
    return text


def controls_in_records(ctx: Ctx) -> Spec:
    """Controls, bidi overrides, lone surrogates (escaped) and ANSI sequences in titles,
    texts and source names: cleaned away, the records kept."""
    serials = [ctx.serial() for _ in range(ctx.rng.randint(1, 3))]
    raw = []
    for serial in serials:
        record = ctx.record(serial)
        # the serial is kept whole: sprinkle around it
        before, _, after = record["text"].partition(serial)
        record["text"] = _sprinkle(ctx, before) + serial + _sprinkle(ctx, after)
        for name in ("title", "source", "url", "id"):
            record[name] = _sprinkle(ctx, record[name], 2)
        record["note\u202e\x1b[2J"] = _sprinkle(ctx, "meta")
        raw.append(json.dumps(record))  # ASCII: a lone "\ud800" is written as an escape
    return Spec(".jsonl", lines(raw), serials=tuple(serials))


def controls_in_text_file(ctx: Ctx) -> Spec:
    """Controls without NUL in the first 4 KiB: the file is text, the controls go."""
    serial = ctx.serial()
    text = ctx.text(serial)
    before, _, after = text.partition(serial)
    body = _sprinkle(ctx, before, 4) + serial + _sprinkle(ctx, after, 2)
    body = body.replace("\x00", "").replace("\ud800", "").replace("\udfff", "")
    title = "# " + _sprinkle(ctx, "Ракеты и \x1b[2Jдипломатия").replace("\x00", "") \
        .replace("\ud800", "").replace("\udfff", "") + "\n\n"
    suffix = ctx.rng.choice([".txt", ".md"])
    data = ((title if suffix == ".md" else "") + body).encode("utf-8")
    return Spec(suffix, data, serials=(serial,))


def nul_in_text_file(ctx: Ctx) -> Spec:
    """NUL bytes in the first 4 KiB mark a binary file (README)."""
    return Spec(".txt", ctx.text(ctx.tag()).encode() + b"\x00\x00" + b" tail")


def nul_after_4k(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    filler = " ".join(ctx.sentences(ctx.tag(), "en", 8)) + "\n"
    head = (ctx.text(serial) + "\n" + filler * 12).encode()[:5000]
    head = head.decode("utf-8", "ignore").encode()
    return Spec(".txt", head + b"\x00 after the first 4 KiB", serials=(serial,))


def noncharacters_file(ctx: Ctx) -> Spec:
    serial = ctx.serial()
    text = "\ufffe\uffff" + ctx.text(serial) + "\ufdd0\U0001fffe"
    return Spec(".txt", text.encode("utf-8"), serials=(serial,))


CONTENT_FAMILIES: dict[str, tuple[float, list[Variant]]] = {
    "empty": (1.0, [empty_files, whitespace_files, blank_lines_jsonl, empty_json_values,
                    markdown_heading_only]),
    "binary": (0.8, [binary_with_nul, binary_high_bytes, binary_formats, binary_jsonl_lines]),
    "encoding": (1.2, [cp1251_text, koi8_markdown, latin1_text, utf16_with_bom,
                       utf16_without_bom, utf16_json_lines, mixed_encodings, cut_utf8_mid_file,
                       cut_utf8_at_end, overlong_and_cesu, bom_then_latin1]),
    "invalid-json": (1.6, [json_single_bad_line, json_document_broken, json_array_mixed,
                           deep_metadata, huge_keys, duplicate_keys, long_integers]),
    "jsonl-mixed": (1.6, [json_lines_mixed]),
    "dates": (1.0, [impossible_dates, impossible_dates, impossible_dates, impossible_offsets]),
    "controls": (1.0, [controls_in_records, controls_in_text_file, nul_in_text_file,
                       nul_after_4k, noncharacters_file]),
}
