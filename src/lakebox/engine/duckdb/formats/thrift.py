"""Reading thrift's compact protocol, as Parquet footers are written: just what lakebox
reads from a footer itself (a schema's bytes, a file's row count), without a thrift
library (pyarrow's Parquet metadata reader costs 150 ms to import and 50 us a footer)."""

from __future__ import annotations

from collections.abc import Iterator

#: type ids (the low nibble of a field header)
T_TRUE, T_FALSE, T_BYTE, T_I16, T_I32, T_I64, T_DOUBLE = 1, 2, 3, 4, 5, 6, 7
T_BINARY, T_LIST, T_SET, T_MAP, T_STRUCT = 8, 9, 10, 11, 12


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(10):
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("varint longer than 10 bytes")


def zigzag(value: int) -> int:
    """A compact protocol integer's value (zigzag-encoded varints)."""
    return (value >> 1) ^ -(value & 1)


def read_int(buf: bytes, pos: int) -> tuple[int, int]:
    """An i16 / i32 / i64 and the position after it."""
    value, pos = varint(buf, pos)
    return zigzag(value), pos


class Fields:
    """The fields of one struct starting at ``pos``: iterate for ``(field id, type)`` of
    each, and either read its value (advancing ``pos``) or leave it, and it is skipped
    before the next field. ``pos`` is past the struct once the iteration ends."""

    def __init__(self, buf: bytes, pos: int, depth: int = 0) -> None:
        self.buf, self.pos, self.depth = buf, pos, depth
        self._value_at = -1
        self._kind = 0

    def __iter__(self) -> Iterator[tuple[int, int]]:
        buf, field = self.buf, 0
        while True:
            if self._value_at == self.pos:  # the caller left the last value unread
                self.pos = skip(buf, self.pos, self._kind, self.depth + 1)
            header = buf[self.pos]
            self.pos += 1
            if header == 0:
                return
            kind = header & 0x0F
            if header >> 4:
                field += header >> 4
            else:
                field, self.pos = read_int(buf, self.pos)  # a field id written in full
            self._value_at, self._kind = self.pos, kind
            yield field, kind


def skip(buf: bytes, pos: int, kind: int, depth: int, in_collection: bool = False) -> int:
    """The position after one thrift compact value of type ``kind`` starting at ``pos``."""
    if depth > 64:
        raise ValueError("thrift values nest too deeply")
    if kind in (T_TRUE, T_FALSE):
        return pos + 1 if in_collection else pos  # a field's boolean is in its header
    if kind == T_BYTE:
        return pos + 1
    if kind in (T_I16, T_I32, T_I64):
        return varint(buf, pos)[1]
    if kind == T_DOUBLE:
        return pos + 8
    if kind == T_BINARY:
        length, pos = varint(buf, pos)
        return pos + length
    if kind in (T_LIST, T_SET):
        header = buf[pos]
        pos += 1
        count, element = header >> 4, header & 0x0F
        if count == 15:
            count, pos = varint(buf, pos)
        for _ in range(count):
            pos = skip(buf, pos, element, depth + 1, True)
            if pos > len(buf):
                raise IndexError("past the end")
        return pos
    if kind == T_MAP:
        count, pos = varint(buf, pos)
        if count:
            types = buf[pos]
            pos += 1
            for _ in range(count):
                pos = skip(buf, pos, types >> 4, depth + 1, True)
                pos = skip(buf, pos, types & 0x0F, depth + 1, True)
                if pos > len(buf):
                    raise IndexError("past the end")
        return pos
    if kind == T_STRUCT:
        # inline, not ``Fields``: skipping is the hot path (every schema element)
        while True:
            header = buf[pos]
            pos += 1
            if header == 0:
                return pos
            if not header >> 4:
                pos = varint(buf, pos)[1]  # a field id written in full
            pos = skip(buf, pos, header & 0x0F, depth + 1)
    raise ValueError(f"unknown thrift type {kind}")


def read_list_header(buf: bytes, pos: int) -> tuple[int, int, int]:
    """A list's element count and element type, and the position after its header."""
    header = buf[pos]
    pos += 1
    count, element = header >> 4, header & 0x0F
    if count == 15:
        count, pos = varint(buf, pos)
    return count, element, pos
