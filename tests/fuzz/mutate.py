"""Strategies that damage valid inputs: the cheapest way to reach the error paths of a
parser is to start from text it accepts and break it a little."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

#: fragments that tend to break tokenizers and type conversions
NASTY_TEXT = [
    "'",
    '"',
    "`",
    "(",
    ")",
    "<",
    ">",
    ",",
    ";",
    "\\",
    "\x00",
    "\n",
    "\r",
    "\t",
    "--",
    "/*",
    "*/",
    " ",
    "99999999999999999999999999999999999999",
    "-9223372036854775809",
    "1e999",
    "NaN",
    "0x",
    "é",
    "\u202e",
    "\U0001f600",
    "\ud800",
    "\ufeff",
    "NULL",
    "${x}",
    "%{",
    "!{",
    "$",
    "[",
    "]",
    "{",
    "}",
    ":",
    ".",
    "*",
]

NASTY_BYTES = [
    b"\x00",
    b"\xff",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\x80",
    b"\xc3",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00" * 8,
    b"\xff" * 8,
    b"PAR1",
    b"ORC",
    b"Obj\x01",
    b"\xe0\x01\x00\xea",
    b"\x1f\x8b",
]


@st.composite
def mutated_text(
    draw: st.DrawFn, seeds: Sequence[str], words: Sequence[str] = (), max_edits: int = 4
) -> str:
    """One of ``seeds`` with a few edits: deletions, insertions of nasty fragments or
    ``words``, replacements, duplications and truncation."""
    text = draw(st.sampled_from(list(seeds)))
    pieces = st.sampled_from(NASTY_TEXT + list(words)) | st.text(max_size=6)
    for _ in range(draw(st.integers(0, max_edits))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 12)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(pieces) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(pieces) + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i]
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn, seed: bytes, max_edits: int = 4) -> bytes:
    """``seed`` with bit flips, byte edits, insertions and truncation."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_edits))):
        n = len(data)
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        i = draw(st.integers(0, max(0, n - 1))) if n else 0
        if op == "flip" and n:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and n:
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.sampled_from(NASTY_BYTES) | st.binary(max_size=8))
        elif op == "delete" and n:
            del data[i : i + draw(st.integers(1, 16))]
        else:
            del data[i:]
    return bytes(data)
