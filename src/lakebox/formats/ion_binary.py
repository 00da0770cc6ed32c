"""A structural check of binary Ion 1.0 before amazon-ion's C extension reads it.

Why our own: on some damaged binary files (a child whose length runs past its container)
the C extension loops forever inside one call, where no signal reaches it. This walk only
follows the length fields of the binary encoding (type descriptors, VarUInt lengths,
struct field ids, annotation wrappers), checking that every value ends inside its
container; it decodes no scalar, so it is a small fraction of the cost of parsing.
The encoding is the Ion 1.0 binary spec (amazon-ion.github.io/ion-docs/docs/binary.html).
"""

from __future__ import annotations

BVM = b"\xe0\x01\x00\xea"


class IonStructureError(ValueError):
    """The binary Ion bytes are damaged; the message says where. ``good_prefix`` is the
    length of the leading part that holds only whole, well-formed top-level values."""

    good_prefix: int = 0


def is_binary_ion(data: bytes) -> bool:
    return data[:4] == BVM


def check_binary_ion(data: bytes) -> None:
    """Raise IonStructureError when a value's length runs past its container (or the
    file), a type code is reserved, or an annotation wrapper is malformed."""
    i, end = 0, len(data)
    while i < end:
        if data[i : i + 4] == BVM:
            i += 4
            continue
        try:
            i = _value(data, i, end, 0)
        except IonStructureError as err:
            err.good_prefix = i
            raise


def _varuint(data: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    while True:
        if i >= end:
            raise IonStructureError(f"a length field runs past its container at byte {i}")
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if byte & 0x80:
            return value, i
        if value > 1 << 56:
            raise IonStructureError(f"an impossible length at byte {i}")


def _walk(data: bytes, i: int, end: int, fields: bool, depth: int) -> None:
    if depth > 500:
        raise IonStructureError(f"values nested more than 500 deep at byte {i}")
    while i < end:
        if fields:  # a struct's field name symbol id comes before each value
            _, i = _varuint(data, i, end)
            if i >= end:
                raise IonStructureError(f"a struct field has no value at byte {i}")
        i = _value(data, i, end, depth)


def _value(data: bytes, i: int, end: int, depth: int) -> int:
    """Check the value starting at ``i``; the index just past it."""
    start = i
    td = data[i]
    i += 1
    kind, low = td >> 4, td & 0x0F
    if kind == 15:
        raise IonStructureError(f"reserved type code 0x{td:02x} at byte {start}")
    if kind == 1 or low == 15:  # bool and typed nulls carry no body
        if kind == 14:
            raise IonStructureError(f"an annotation wrapper cannot be null (byte {start})")
        return i
    if (kind == 13 and low == 1) or low == 14:  # a sorted struct: its length always follows
        length, i = _varuint(data, i, end)
    else:
        length = low
    stop = i + length
    if stop > end:
        raise IonStructureError(
            f"a value at byte {start} is {length} bytes long, past the end of its "
            f"container at byte {end}"
        )
    if kind in (11, 12):  # list, sexp
        _walk(data, i, stop, fields=False, depth=depth + 1)
    elif kind == 13:
        _walk(data, i, stop, fields=True, depth=depth + 1)
    elif kind == 14:
        if length < 3:
            raise IonStructureError(f"an annotation wrapper at byte {start} is too short")
        annot_length, j = _varuint(data, i, stop)
        j += annot_length
        if j >= stop:
            raise IonStructureError(f"an annotation wrapper at byte {start} holds no value")
        if _value(data, j, stop, depth + 1) != stop:
            raise IonStructureError(
                f"an annotation wrapper at byte {start} must hold exactly one value"
            )
    return stop
