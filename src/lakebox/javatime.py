"""Java ``DateTimeFormatter`` patterns, the one implementation: Firehose's
``!{timestamp:...}`` prefixes format with them, Athena's date partition projection formats
and parses with them, and Trino's ``format_datetime`` takes them.

Written here because no installed library formats Java patterns. ``strftime`` /
``strptime`` cannot express Java's unpadded single letters, depend on the C locale for month
names, and parse leniently (``2024/1/2`` for ``yyyy/MM/dd``). Quoting follows java.time:
``'text'`` is literal, ``''`` is a quote, inside or outside quoted text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

#: Letters :func:`format_java` renders: the ones that make sense in an object key.
FORMAT_LETTERS = "yuYMLdDHhkKmsSnaEeQwG"
#: Letters :class:`JavaDateFormat` formats *and* parses, coarsest first (``u`` reads as ``y``).
_FIELD_ORDER = "yMdHmsS"
#: Java's optional-section and reserved characters.
_RESERVED = "[]{}#"


class JavaPatternError(ValueError):
    """A pattern that cannot be used; ``letter`` names the unsupported letter, if that is why."""

    def __init__(self, message: str, letter: str | None = None) -> None:
        super().__init__(message)
        self.letter = letter


@dataclass(frozen=True)
class Token:
    """A run of one pattern letter (``letter`` and ``count``) or literal ``text``.

    ``reserved`` marks an unquoted optional-section / reserved character, which formats as
    itself but which :class:`JavaDateFormat` refuses."""

    letter: str  # "" for literal text
    count: int = 0
    text: str = ""
    reserved: bool = False


@lru_cache(maxsize=256)
def tokenize(pattern: str) -> tuple[Token, ...]:
    """Split a pattern into letter runs and literals; adjacent literals are merged."""
    tokens: list[Token] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = i + 1
            text = []
            while True:
                if end >= len(pattern):
                    raise JavaPatternError("unterminated quoted text")
                if pattern[end] == "'":
                    if end + 1 < len(pattern) and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            tokens.append(Token("", 0, "".join(text) if end > i + 1 else "'"))
            i = end + 1
        elif char.isascii() and char.isalpha():
            end = i
            while end < len(pattern) and pattern[end] == char:
                end += 1
            tokens.append(Token(char, end - i))
            i = end
        else:
            tokens.append(Token("", 0, char, reserved=char in _RESERVED))
            i += 1
    merged: list[Token] = []
    for token in tokens:
        if token.letter or token.reserved or not merged or merged[-1].letter or merged[-1].reserved:
            merged.append(token)
        else:
            merged[-1] = Token("", 0, merged[-1].text + token.text)
    return tuple(merged)


def check_format(pattern: str) -> None:
    """Raise JavaPatternError unless :func:`format_java` can render ``pattern``."""
    for token in tokenize(pattern):
        if token.letter and token.letter not in FORMAT_LETTERS:
            raise JavaPatternError(
                f"pattern letter {token.letter!r} is not supported", token.letter
            )


def format_java(pattern: str, when: datetime) -> str:
    """``when`` formatted with a Java DateTimeFormatter pattern (letters in FORMAT_LETTERS)."""
    check_format(pattern)
    return "".join(
        _field(t.letter, t.count, when) if t.letter else t.text for t in tokenize(pattern)
    )


def _num(value: int, width: int) -> str:
    return str(value).zfill(width)


def _field(letter: str, count: int, t: datetime) -> str:
    if letter in "yu":
        return _num(t.year % 100, 2) if count == 2 else _num(t.year, count)
    if letter == "Y":
        year = t.isocalendar()[0]
        return _num(year % 100, 2) if count == 2 else _num(year, count)
    if letter in "ML":
        if count >= 4:
            return MONTHS[t.month - 1]
        if count == 3:
            return MONTHS[t.month - 1][:3]
        return _num(t.month, count)
    if letter == "d":
        return _num(t.day, count)
    if letter == "D":
        return _num(t.timetuple().tm_yday, count)
    if letter == "H":
        return _num(t.hour, count)
    if letter == "k":
        return _num(t.hour or 24, count)
    if letter == "h":
        return _num(t.hour % 12 or 12, count)
    if letter == "K":
        return _num(t.hour % 12, count)
    if letter == "m":
        return _num(t.minute, count)
    if letter == "s":
        return _num(t.second, count)
    if letter == "S":
        return str(t.microsecond).zfill(6)[:count].ljust(count, "0")
    if letter == "n":
        return str(t.microsecond * 1000)
    if letter == "a":
        return "AM" if t.hour < 12 else "PM"
    if letter in "Ee":
        name = DAYS[t.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "Q":
        return str((t.month - 1) // 3 + 1)
    if letter == "w":
        return _num(t.isocalendar()[1], count)
    return "AD"  # G


class JavaDateFormat:
    """A pattern restricted to what partition paths use, so it parses as well as formats.

    Supported letters: ``y``/``u`` (year), ``M`` (month, ``MMM``/``MMMM`` as English names),
    ``d``, ``H``, ``m``, ``s``, ``S`` (fraction) and quoted literals (``'T'``, ``''``).
    ``strftime`` gives the equivalent ``strftime`` pattern where one exists, for callers
    that want it.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens = _restricted(tokenize(pattern))
        fields = [t for t in self.tokens if t.letter]
        if not fields:
            raise JavaPatternError("the pattern has no date or time field")
        self._regex = re.compile("".join(_token_regex(t) for t in self.tokens))

    @property
    def precision(self) -> str:
        """The finest field: one of ``y M d H m s S``."""
        letters = {t.letter for t in self.tokens if t.letter}
        return max(letters, key=_FIELD_ORDER.index)

    @property
    def order_preserving(self) -> bool:
        """True when rendered strings sort like the instants they render (for years 1000-9999)."""
        fields = [t for t in self.tokens if t.letter]
        letters = "".join(t.letter for t in fields)
        if not _FIELD_ORDER.startswith(letters):
            return False
        return all(
            (t.letter == "y" and t.count == 4)
            or (t.letter in "MdHms" and t.count == 2)
            or t.letter == "S"
            for t in fields
        )

    @property
    def strftime(self) -> str | None:
        """The same format as a ``strftime`` pattern, or None when it has no equivalent."""
        codes = {
            ("y", 4): "%Y",
            ("y", 2): "%y",
            ("M", 2): "%m",
            ("d", 2): "%d",
            ("H", 2): "%H",
            ("m", 2): "%M",
            ("s", 2): "%S",
            ("S", 6): "%f",
        }
        parts = []
        for token in self.tokens:
            if not token.letter:
                parts.append(token.text.replace("%", "%%"))
                continue
            code = codes.get((token.letter, token.count))
            if code is None:
                return None
            parts.append(code)
        return "".join(parts)

    def format(self, value: datetime) -> str:
        return "".join(
            _field(t.letter, t.count, value) if t.letter else t.text for t in self.tokens
        )

    def parse(self, text: str) -> datetime | None:
        """The instant ``text`` renders, or None unless ``text`` is exactly its rendering."""
        match = self._regex.fullmatch(text)
        if match is None:
            return None
        parts = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "S": 0}
        groups = iter(match.groups())
        for token in self.tokens:
            if not token.letter:
                continue
            raw = next(groups)
            if token.letter == "M" and token.count >= 3:
                names = [n if token.count > 3 else n[:3] for n in MONTHS]
                parts["M"] = names.index(raw) + 1
            elif token.letter == "S":
                parts["S"] = int((raw + "000000")[:6])
            elif token.letter == "y" and token.count == 2:
                parts["y"] = 2000 + int(raw)
            else:
                parts[token.letter] = int(raw)
        try:
            value = datetime(
                parts["y"], parts["M"], parts["d"], parts["H"], parts["m"], parts["s"], parts["S"]
            )
        except ValueError:
            return None
        return value if self.format(value) == text else None

    def truncate(self, value: datetime) -> datetime:
        """``value`` cut to the precision of the format (how Athena aligns range bounds)."""
        parsed = self.parse(self.format(value))
        if parsed is None:  # pragma: no cover - parse(format(x)) always round-trips
            raise ValueError(f"cannot round-trip {value} through {self.pattern!r}")
        return parsed


def _restricted(tokens: tuple[Token, ...]) -> list[Token]:
    """The tokens with ``u`` read as ``y``; letters or widths that do not parse back refused."""
    out: list[Token] = []
    for token in tokens:
        if token.reserved:
            raise JavaPatternError(
                f"{token.text!r} (optional sections / reserved) is not supported"
            )
        if not token.letter:
            out.append(token)
            continue
        letter = "y" if token.letter == "u" else token.letter
        if letter not in _FIELD_ORDER:
            raise JavaPatternError(
                f"pattern letter {token.letter!r} is not supported", token.letter
            )
        if (letter in "dHms" and token.count > 2) or (letter == "M" and token.count > 4):
            raise JavaPatternError(f"too many pattern letters {token.letter * token.count!r}")
        out.append(Token(letter, token.count))
    return out


def _token_regex(token: Token) -> str:
    if not token.letter:
        return re.escape(token.text)
    if token.letter == "M" and token.count >= 3:
        names = [n if token.count > 3 else n[:3] for n in MONTHS]
        return "(" + "|".join(names) + ")"
    if token.letter == "S":
        return rf"(\d{{{token.count}}})"
    if token.letter == "y":
        return r"(\d{2})" if token.count == 2 else rf"(\d{{{max(token.count, 1)},9}})"
    return r"(\d{2})" if token.count == 2 else r"(\d{1,2})"


def add_months(value: datetime, months: int) -> datetime:
    """Calendar month arithmetic, clamping the day to the month's end as java.time does."""
    year, month = divmod(value.year * 12 + value.month - 1 + months, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)
