"""Bytes to text: UTF-8 (with or without BOM) first, then charset detection."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from tocsin.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes, where: str) -> tuple[str, str]:
    """Return (text, encoding). Raises InputError('undecodable') when no charset fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError("undecodable", f"bad {encoding} after its BOM: {exc}",
                                 where) from exc
    if b"\x00" in data[:4096]:
        # NUL bytes without a UTF-16/32 BOM: a binary file, not text in some charset.
        raise InputError("undecodable", "binary content (NUL bytes), not text", where)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            # UTF-8 cut inside its last character (a truncated download): keep the text,
            # mark the cut with U+FFFD, and say so in the document's metadata.
            return data.decode("utf-8", "replace"), "utf-8 (truncated)"
    best = from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding is None:
        raise InputError("undecodable", "no character set fits these bytes", where)
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputError("undecodable", f"detected {best.encoding} but: {exc}", where) from exc
