"""Java charset names (Hive's ``serialization.encoding``) mapped to Python codecs.

Hive decodes text with ``java.nio.charset.Charset.forName(name)``, so users write Java's
names and aliases: ``windows-1252``, ``MS932``, ``ISO8859_1``, ``x-SJIS``. One table maps
each of them (case-insensitive) to the Python codec that decodes the same way, and
``decode`` copies Java's behaviour where Python's differs: malformed bytes become U+FFFD
instead of failing, and ``UTF-16`` / ``UTF-32`` without a byte-order mark are big-endian.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from lakebox.errors import InvalidRequestError

#: Java canonical name -> (Python codec, Java aliases). Aliases are Java's own (from
#: ``Charset.aliases()``) plus the spellings Hive users commonly write.
_JAVA: dict[str, tuple[str, tuple[str, ...]]] = {
    "UTF-8": ("utf-8", ("UTF8", "unicode-1-1-utf-8")),
    "US-ASCII": (
        "ascii",
        (
            "ASCII",
            "iso-ir-6",
            "ANSI_X3.4-1986",
            "ISO_646.irv:1991",
            "iso_646.irv:1983",
            "ANSI_X3.4-1968",
            "ISO646-US",
            "default",
            "cp367",
            "csASCII",
            "us",
            "IBM367",
            "ascii7",
            "646",
            "ibm-367",
        ),
    ),
    "ISO-8859-1": (
        "latin-1",
        (
            "latin1",
            "latin-1",
            "l1",
            "iso-ir-100",
            "ISO_8859-1",
            "ISO_8859-1:1987",
            "ISO_8859_1",
            "ISO8859_1",
            "ISO8859-1",
            "8859_1",
            "IBM819",
            "IBM-819",
            "cp819",
            "819",
            "csISOLatin1",
        ),
    ),
    "ISO-8859-2": ("iso8859_2", ("ISO8859_2", "latin2", "l2", "iso-ir-101", "csISOLatin2")),
    "ISO-8859-3": ("iso8859_3", ("ISO8859_3", "latin3", "l3", "iso-ir-109")),
    "ISO-8859-4": ("iso8859_4", ("ISO8859_4", "latin4", "l4", "iso-ir-110")),
    "ISO-8859-5": ("iso8859_5", ("ISO8859_5", "cyrillic", "iso-ir-144", "csISOLatinCyrillic")),
    "ISO-8859-6": ("iso8859_6", ("ISO8859_6", "arabic", "iso-ir-127", "ASMO-708", "ECMA-114")),
    "ISO-8859-7": ("iso8859_7", ("ISO8859_7", "greek", "greek8", "iso-ir-126", "ELOT_928")),
    "ISO-8859-8": ("iso8859_8", ("ISO8859_8", "hebrew", "iso-ir-138", "csISOLatinHebrew")),
    "ISO-8859-9": ("iso8859_9", ("ISO8859_9", "latin5", "l5", "iso-ir-148")),
    "x-iso-8859-11": ("iso8859_11", ("iso-8859-11", "iso8859_11")),
    "ISO-8859-13": ("iso8859_13", ("ISO8859_13", "latin7")),
    "ISO-8859-15": ("iso8859_15", ("ISO8859_15", "latin9", "l9", "LATIN0", "csISOlatin9")),
    "ISO-8859-16": ("iso8859_16", ("ISO8859_16", "latin10", "l10", "iso-ir-226")),
    "windows-1250": ("cp1250", ("cp1250", "cp5346")),
    "windows-1251": ("cp1251", ("cp1251", "cp5347", "ansi-1251")),
    "windows-1252": ("cp1252", ("cp1252", "cp5348", "ibm-1252", "ibm1252")),
    "windows-1253": ("cp1253", ("cp1253", "cp5349")),
    "windows-1254": ("cp1254", ("cp1254", "cp5350")),
    "windows-1255": ("cp1255", ("cp1255",)),
    "windows-1256": ("cp1256", ("cp1256",)),
    "windows-1257": ("cp1257", ("cp1257", "cp5353")),
    "windows-1258": ("cp1258", ("cp1258",)),
    "KOI8-R": ("koi8_r", ("koi8_r", "koi8", "cskoi8r")),
    "KOI8-U": ("koi8_u", ("koi8_u",)),
    "IBM437": ("cp437", ("cp437", "ibm437", "ibm-437", "437", "cspc8codepage437")),
    "IBM850": ("cp850", ("cp850", "ibm-850", "850", "cspc850multilingual")),
    "IBM866": ("cp866", ("cp866", "ibm-866", "866", "csIBM866")),
    "x-MacRoman": ("mac_roman", ("MacRoman",)),
    "TIS-620": ("tis_620", ("tis620", "tis620.2533")),
    "Shift_JIS": ("shift_jis", ("sjis", "shift-jis", "x-sjis", "ms_kanji", "csShiftJIS")),
    "windows-31j": ("cp932", ("MS932", "windows-932", "csWindows31J", "cp932")),
    "EUC-JP": (
        "euc_jp",
        (
            "euc_jp",
            "eucjp",
            "eucjis",
            "x-euc-jp",
            "x-eucjp",
            "csEUCPkdFmtjapanese",
            "Extended_UNIX_Code_Packed_Format_for_Japanese",
        ),
    ),
    "ISO-2022-JP": ("iso2022_jp", ("iso2022jp", "jis", "csISO2022JP", "jis_encoding")),
    "GBK": ("gbk", ("CP936", "windows-936")),
    "GB18030": ("gb18030", ("gb18030-2000", "gb18030-2022")),
    "GB2312": (
        "gb2312",
        ("euc-cn", "euccn", "x-EUC-CN", "EUC_CN", "gb2312-80", "gb2312-1980"),
    ),
    "Big5": ("big5", ("csBig5",)),
    "Big5-HKSCS": ("big5hkscs", ("big5hk", "big5-hkscs", "big5hkscs")),
    "x-windows-950": ("cp950", ("MS950", "windows-950")),
    "EUC-KR": (
        "euc_kr",
        (
            "euckr",
            "euc_kr",
            "ksc5601",
            "ksc5601-1987",
            "ks_c_5601-1987",
            "KSC5601",
            "5601",
            "csEUCKR",
        ),
    ),
    "x-windows-949": ("cp949", ("MS949", "windows-949", "windows949")),
    "UTF-16": ("utf-16", ("UTF_16", "utf16", "unicode")),
    "UTF-16BE": ("utf-16-be", ("UTF_16BE", "ISO-10646-UCS-2", "X-UTF-16BE", "UnicodeBigUnmarked")),
    "UTF-16LE": ("utf-16-le", ("UTF_16LE", "X-UTF-16LE", "UnicodeLittleUnmarked")),
    "UTF-32": ("utf-32", ("UTF_32", "UTF32")),
    "UTF-32BE": ("utf-32-be", ("UTF_32BE", "X-UTF-32BE")),
    "UTF-32LE": ("utf-32-le", ("UTF_32LE", "X-UTF-32LE")),
}


@dataclass(frozen=True)
class Charset:
    """A resolved charset: Java's canonical name and the Python codec decoding like it."""

    java_name: str
    codec: str

    @property
    def is_utf8(self) -> bool:
        return self.codec == "utf-8"


UTF8 = Charset("UTF-8", "utf-8")


def _squash(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "")


_BY_NAME: dict[str, Charset] = {}
_BY_SQUASHED: dict[str, Charset] = {}
for _java, (_codec, _aliases) in _JAVA.items():
    _cs = Charset(_java, _codec)
    for _name in (_java, *_aliases):
        _BY_NAME[_name.lower()] = _cs
        _BY_SQUASHED.setdefault(_squash(_name), _cs)


def resolve_charset(
    value: str | None, where: str = "", key: str = "serialization.encoding"
) -> Charset:
    """The charset a ``serialization.encoding`` value names; UTF-8 when unset.

    Matches Java's names and aliases case-insensitively, then ignoring ``-`` and ``_``
    (``utf_16le``, ``ISO8859-15``). An unknown name is an error naming the property."""
    if value is None or not value.strip():
        return UTF8
    found = _BY_NAME.get(value.strip().lower()) or _BY_SQUASHED.get(_squash(value))
    if found is None:
        prefix = f"{where}: " if where else ""
        raise InvalidRequestError(
            f"{prefix}{key} {value!r} is not a charset lakebox knows; use a Java charset name "
            "such as 'UTF-8', 'ISO-8859-1', 'windows-1252', 'Shift_JIS', 'MS932', 'EUC-JP', "
            "'UTF-16', 'GBK' or 'Big5'"
        )
    return found


def _bom_endian(data: bytes, width: int) -> tuple[str, int]:
    """Java's UTF-16 / UTF-32 decoders: a byte-order mark picks the order and is dropped;
    without one the text is big-endian."""
    if width == 2:
        if data[:2] == codecs.BOM_UTF16_LE:
            return "utf-16-le", 2
        if data[:2] == codecs.BOM_UTF16_BE:
            return "utf-16-be", 2
        return "utf-16-be", 0
    if data[:4] == codecs.BOM_UTF32_LE:
        return "utf-32-le", 4
    if data[:4] == codecs.BOM_UTF32_BE:
        return "utf-32-be", 4
    return "utf-32-be", 0


def decode(data: bytes, charset: Charset) -> str:
    """``data`` decoded as Hive decodes it: malformed or unmappable bytes become U+FFFD."""
    codec = charset.codec
    if codec in ("utf-16", "utf-32"):
        codec, skip = _bom_endian(data, 2 if codec == "utf-16" else 4)
        data = data[skip:]
    return data.decode(codec, "replace")


#: charsets ``detect_charset`` weighs for bytes that are not UTF-8, in order of preference
#: on a tie: Japanese (the multi-byte charsets lakebox users meet most), then Western
_GUESSES = ("windows-31j", "EUC-JP", "windows-1252")


#: windows-1252 punctuation common in Western text (curly quotes, dashes, euro, ...)
_WESTERN_PUNCTUATION = frozenset(
    "\u20ac\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022\u2122\u00b0\u00a3\u00a5"
    "\u00a7\u00a9\u00ae\u00ab\u00bb\u00bf\u00a1"
)


def _plausible(ch: str, java_name: str) -> float:
    """How typical a non-ASCII character is of text written in ``java_name``."""
    o = ord(ch)
    if java_name == "windows-1252":
        if 0xC0 <= o <= 0xFF and o not in (0xD7, 0xF7):
            return 1.0
        return 0.5 if ch in _WESTERN_PUNCTUATION else 0.0
    if 0x3040 <= o <= 0x30FF or 0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F:
        return 1.0  # kana, CJK ideographs, CJK punctuation
    if 0xFF01 <= o <= 0xFF5E or 0x2460 <= o <= 0x2473:
        return 0.8  # full-width forms, circled numbers
    if 0xFF61 <= o <= 0xFF9F:
        return 0.3  # half-width katakana: what EUC-JP text looks like read as MS932
    return 0.0


def detect_charset(data: bytes) -> Charset:
    """The charset a text sample is most likely in: a byte-order mark decides; UTF-16
    without one shows as NULs in every other byte; valid UTF-8 is UTF-8; otherwise the
    guess (MS932, EUC-JP, windows-1252) that decodes cleanly into the most typical
    characters. ``data`` may end in the middle of a character."""
    if data.startswith(codecs.BOM_UTF8):
        return UTF8
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _BY_NAME["utf-32"]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _BY_NAME["utf-16"]
    head = data[:4096]
    if len(head) >= 4:
        half = len(head) // 2
        even_nul = head[0::2].count(0) / half
        odd_nul = head[1::2].count(0) / half
        if odd_nul > 0.3 and even_nul < 0.05:
            return _BY_NAME["utf-16le"]
        if even_nul > 0.3 and odd_nul < 0.05:
            return _BY_NAME["utf-16be"]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
        return UTF8
    except UnicodeDecodeError:
        pass
    best, best_score = _BY_NAME["windows-1252"], -1.0
    for name in _GUESSES:
        cs = _BY_NAME[name.lower()]
        try:
            text = codecs.getincrementaldecoder(cs.codec)().decode(data, final=False)
        except UnicodeDecodeError:
            continue
        high = [c for c in text if ord(c) > 0x7F]
        score = sum(_plausible(c, cs.java_name) for c in high) / max(len(high), 1)
        if score > best_score:
            best, best_score = cs, score
    return best
