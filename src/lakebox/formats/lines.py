"""Hive's text framing, engine-neutral: line ends as Hive's LineRecordReader sees them and
text decoded as its SerDes decode it (used by the text readers and the crawler)."""

from __future__ import annotations

from lakebox.formats.charsets import Charset, decode

__all__ = ["hive_lines", "utf8_text"]


def hive_lines(text: str) -> str:
    """``text`` with every Hive line end (``\\r\\n``, ``\\r``, ``\\n``) made ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def utf8_text(data: bytes, charset: Charset) -> bytes:
    """``data`` as UTF-8 with ``\\n`` line ends, decoded as Hive decodes ``charset``."""
    if charset.is_utf8:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            data = data.decode("utf-8", "replace").encode("utf-8")
    else:
        data = decode(data, charset).encode("utf-8")
    # '\r' and '\n' are single bytes in UTF-8, never part of another character
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
